/* test_rules.c — profiles load with sources, inherit, take overrides; police numbers at the edges. */
#include <criterion/criterion.h>
#include <string.h>
#include "err.h"
#include "plan.h"
#include "rules.h"

static rules_t *load(const char *name) {
    rules_t *r;
    char err[512] = "";
    cr_assert_eq(rules_load(name, &r, err, sizeof err), 0, "%s", err);
    return r;
}

Test(rules, shipped_profiles_state_their_bands_and_sources) {
    const struct { const char *name; long min, max, split, merge; } want[] = {
        {"hohhot-2023", 1000, 3000, 4000, 1000}, {"ningxia-2020", 1000, 3000, 7000, 1000},
        {"henan-2022", 1000, 3000, 3000, 1000},  {"hebei-2011", 1500, 3000, 3000, 1500}};
    for (size_t i = 0; i < 4; i++) {
        rules_t *r = load(want[i].name);
        rules_band_t b;
        rules_community_band(r, &b);
        cr_assert_eq(b.min, want[i].min, "%s", want[i].name);
        cr_assert_eq(b.max, want[i].max, "%s", want[i].name);
        cr_assert_eq(b.split_above, want[i].split, "%s", want[i].name);
        cr_assert_eq(b.merge_below, want[i].merge, "%s", want[i].name);
        cr_assert_str_eq(rules_name(r), want[i].name);
        cr_assert_eq(rules_num(r, "grid.target_households", 0), 300);
        cr_assert_not_null(json_object_get(json_object_get(rules_json(r), "circles"), "fire_station"));
        rules_free(r);
    }
    rules_t *r = load("hohhot-2023");
    cr_assert_not_null(strstr(rules_source(r, "community.split_above"), "seed 004"));
    cr_assert_not_null(strstr(rules_source(r, "police.min_minjing"), "inherited from national"));
    rules_free(r);
}

Test(rules, overrides_by_flag_and_user_file) {
    rules_t *r = load("hohhot-2023");
    char err[512] = "";
    cr_assert_eq(rules_set(r, "community.band_max=3500", err, sizeof err), 0, "%s", err);
    cr_assert_eq(rules_num(r, "community.band_max", 0), 3500);
    cr_assert_str_eq(rules_source(r, "community.band_max"), "override: --set community.band_max=3500");
    cr_assert_eq(rules_set(r, "police.rounding=floor", err, sizeof err), 0, "%s", err);
    cr_assert_str_eq(rules_str(r, "police.rounding", ""), "floor");
    cr_assert_eq(rules_set(r, "community.no_such=1", err, sizeof err), GP_ENOTFOUND);
    cr_assert_eq(rules_set(r, "community.band_min=5000", err, sizeof err), GP_EINVAL, "bottom above top refused");
    buf_t out = {0};
    cr_assert_eq(rules_print(r, 0, &out), 0);
    cr_assert_not_null(strstr(out.data, "community.band_max"));
    cr_assert_not_null(strstr(out.data, "override: --set community.band_max=3500"));
    buf_free(&out);
    rules_free(r);

    rules_t *u;
    cr_assert_eq(rules_load_string("{\"name\":\"mycity\",\"inherits\":\"ningxia-2020\",\"grid\":{\"target_households\":250}}",
                                   "mycity.json", &u, err, sizeof err), 0, "%s", err);
    cr_assert_eq(rules_num(u, "grid.target_households", 0), 250);
    cr_assert_str_eq(rules_source(u, "grid.target_households"), "set in mycity.json");
    cr_assert_eq(rules_num(u, "community.split_above", 0), 7000);
    cr_assert_not_null(strstr(rules_source(u, "community.split_above"), "inherited from ningxia-2020: seed 000"));
    rules_free(u);
    cr_assert_eq(rules_load("no-such-profile", &u, err, sizeof err), GP_ENOTFOUND);
}

/* ningxia-2020: 2 辅警 up to 3,000 households, one more per further 2,000 — under each rounding. */
Test(rules, police_numbers_at_the_band_edges) {
    const long hh[] = {0, 3000, 3001, 5000, 5001, 7000, 7001};
    const long ceil_want[] = {2, 2, 3, 3, 4, 4, 5};
    const long floor_want[] = {2, 2, 2, 3, 3, 4, 4};
    const long round_want[] = {2, 2, 2, 3, 3, 4, 4};
    const char *modes[] = {"ceil", "floor", "round"};
    const long *wants[] = {ceil_want, floor_want, round_want};
    for (int m = 0; m < 3; m++) {
        rules_t *r = load("ningxia-2020");
        char set[64], err[256];
        snprintf(set, sizeof set, "police.rounding=%s", modes[m]);
        cr_assert_eq(rules_set(r, set, err, sizeof err), 0, "%s", err);
        for (size_t i = 0; i < sizeof hh / sizeof hh[0]; i++) {
            plan_police_t p;
            plan_police(r, hh[i], 0, &p);
            cr_assert_eq(p.minjing, 1);
            cr_assert_eq(p.fujing, wants[m][i], "%s: %ld households -> %ld 辅警, want %ld", modes[m], hh[i], p.fujing,
                         wants[m][i]);
            cr_assert_str_eq(p.rounding, modes[m]);
        }
        rules_free(r);
    }
    rules_t *r = load("ningxia-2020");
    plan_police_t p;
    plan_police(r, 4000, 0, &p);   /* round: 0.5 step rounds up -> 3; ceil -> 3 */
    cr_assert_eq(p.fujing, 3);
    plan_police(r, 3000, 10000, &p);
    cr_assert_eq(p.workers, 18, "18 workers per 10,000 residents");
    plan_police(r, 3000, 10001, &p);
    cr_assert_eq(p.workers, 19);
    rules_free(r);
    r = load("hohhot-2023");   /* no police rule of its own: the national 一区一警, 一村一辅警 */
    plan_police(r, 9000, 0, &p);
    cr_assert_eq(p.minjing, 1);
    cr_assert_eq(p.fujing, 1);
    rules_free(r);
}

Test(rules, community_status) {
    rules_band_t b = {1000, 3000, 2000, 4000, 1000};
    const char *action;
    cr_assert_str_eq(plan_status(&b, 999, &action), "under");
    cr_assert_str_eq(action, "merge");
    cr_assert_str_eq(plan_status(&b, 1000, &action), "within");
    cr_assert_null(action);
    cr_assert_str_eq(plan_status(&b, 3500, &action), "over");
    cr_assert_null(action);
    cr_assert_str_eq(plan_status(&b, 4001, &action), "split");
    cr_assert_str_eq(action, "split");
}
