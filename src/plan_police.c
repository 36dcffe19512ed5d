/* plan_police.c — 民警/辅警 and community worker numbers from a profile, and a community's status
 * against the band. Rounding of "one more per further N households" is the profile's, stated. */
#include "plan.h"
#include <math.h>
#include <string.h>

void plan_police(const rules_t *r, long households, long population, plan_police_t *out) {
    long min_minjing = lround(rules_num(r, "police.min_minjing", 1));
    long base = lround(rules_num(r, "police.fujing_base", 1));
    long base_hh = lround(rules_num(r, "police.fujing_base_households", 0));
    long step = lround(rules_num(r, "police.fujing_step_households", 0));
    const char *rounding = rules_str(r, "police.rounding", "ceil");
    long extra = 0;
    if (step > 0 && households > base_hh) {
        double steps = (double)(households - base_hh) / (double)step;
        if (!strcmp(rounding, "floor")) extra = (long)floor(steps);
        else if (!strcmp(rounding, "round")) extra = lround(steps);   /* halves round up */
        else { extra = (long)ceil(steps); rounding = "ceil"; }
    } else if (strcmp(rounding, "floor") && strcmp(rounding, "round")) {
        rounding = "ceil";
    }
    out->minjing = min_minjing;
    out->fujing = base + extra;
    out->rounding = rounding;
    if (population <= 0 && households > 0)
        population = lround((double)households * rules_num(r, "staffing.persons_per_household", 2.62));
    out->workers = (long)ceil((double)population * rules_num(r, "staffing.workers_per_10k_residents", 18) / 10000.0);
}

const char *plan_status(const rules_band_t *band, long households, const char **action) {
    *action = NULL;
    if (households > band->split_above) {
        *action = "split";
        return "split";
    }
    if (households < band->merge_below) *action = "merge";
    if (households < band->min) return "under";
    if (households > band->max) return "over";
    return "within";
}
