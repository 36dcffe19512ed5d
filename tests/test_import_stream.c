/* test_import_stream.c — the feature-at-a-time GeoJSON reader: spans, header members in any order,
 * BOM, and error positions mapped back to the whole file. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "err.h"
#include "import_stream.h"

static char path[64];
static char err[512];
static import_stream_t s;

static void setup(void) { snprintf(path, sizeof path, "/tmp/gp_test_stream_%d.geojson", getpid()); }
static void teardown(void) {
    import_stream_close(&s);
    unlink(path);
}
TestSuite(stream, .init = setup, .fini = teardown);

static void write_text(const char *text) {
    FILE *f = fopen(path, "w");
    cr_assert(f);
    fputs(text, f);
    fclose(f);
}

Test(stream, finds_features_and_header_members_after_them) {
    write_text("\xEF\xBB\xBF{\"type\":\"FeatureCollection\",\"features\":[\n"
               " {\"type\":\"Feature\",\"properties\":{\"s\":\"a]}\\\"{\"},\"geometry\":null},\n"
               " {\"type\":\"Feature\",\"properties\":{\"n\":[1,[2]]},\"geometry\":null}\n"
               "], \"crs\":{\"type\":\"name\",\"properties\":{\"name\":\"EPSG:4547\"}}}\n");
    cr_assert_eq(import_stream_open(&s, path, err, sizeof err), 0, "%s", err);
    cr_assert_eq(s.nfeatures, 2);
    cr_assert(s.has_features_array);
    cr_assert_str_eq(json_string_value(json_object_get(json_object_get(json_object_get(s.header, "crs"), "properties"), "name")),
                     "EPSG:4547", "crs found even after the features");
    json_t *f = import_stream_feature(&s, 0, err, sizeof err);
    cr_assert(f, "%s", err);
    cr_assert_str_eq(json_string_value(json_object_get(json_object_get(f, "properties"), "s")), "a]}\"{",
                     "brackets and escaped quotes inside strings do not end the feature");
    json_decref(f);
    f = import_stream_feature(&s, 1, err, sizeof err);
    cr_assert_eq(json_integer_value(json_array_get(json_array_get(json_object_get(json_object_get(f, "properties"), "n"), 1), 0)), 2);
    json_decref(f);
    import_stream_release(&s, 1);
}

Test(stream, malformed_feature_reports_file_line_and_column) {
    write_text("{\"type\":\"FeatureCollection\",\"features\":[\n"
               "{\"type\":\"Feature\",\"properties\":{},\"geometry\":null},\n"
               "{\"type\":\"Feature\",\"properties\":{\"a\" 1},\"geometry\":null}]}");
    cr_assert_eq(import_stream_open(&s, path, err, sizeof err), 0, "%s", err);
    cr_assert_eq(s.nfeatures, 2);
    cr_assert_null(import_stream_feature(&s, 1, err, sizeof err));
    char want[128];
    snprintf(want, sizeof want, "%s: line 3, column ", path);
    cr_assert(strstr(err, want) == err, "%s", err);
    cr_assert(strstr(err, "malformed JSON: ':' expected"), "%s", err);
}

Test(stream, truncated_empty_and_non_objects) {
    write_text("{\"type\":\"FeatureCollection\",\"features\":[{\"type\":\"Feature\",\n\"properties\":{\"a\":");
    cr_assert_eq(import_stream_open(&s, path, err, sizeof err), GP_EINVAL);
    cr_assert(strstr(err, "line 2, column 19: malformed JSON: premature end of input (truncated file?)"), "%s", err);
    import_stream_close(&s);
    write_text("");
    cr_assert_eq(import_stream_open(&s, path, err, sizeof err), GP_EINVAL);
    cr_assert(strstr(err, "empty file"), "%s", err);
    import_stream_close(&s);
    write_text("[1, 2]");
    cr_assert_eq(import_stream_open(&s, path, err, sizeof err), GP_EINVAL);
    cr_assert(strstr(err, "not a GeoJSON FeatureCollection"), "%s", err);
    import_stream_close(&s);
    write_text("{\"type\":\"FeatureCollection\",\"features\":[]} trailing");
    cr_assert_eq(import_stream_open(&s, path, err, sizeof err), GP_EINVAL);
    cr_assert(strstr(err, "end of file expected"), "%s", err);
    import_stream_close(&s);
    cr_assert_eq(import_stream_open(&s, "/nonexistent/x.geojson", err, sizeof err), GP_ENOTFOUND);
    cr_assert(strstr(err, "/nonexistent/x.geojson: no such file"), "%s", err);
}
