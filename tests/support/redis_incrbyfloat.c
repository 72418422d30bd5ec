/* Redis's INCRBYFLOAT arithmetic (util.c string2ld + ld2string LD_STR_HUMAN), for the
 * differential test tests/incr_by_float_matches_libc.rs. Reads "value<TAB>increment" lines,
 * writes "OK <text>", "ERR NotAFloat" or "ERR NanOrInfinity". */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int string2ld(const char *s, size_t slen, long double *dp) {
    char buf[5 * 1024];
    long double value;
    char *eptr;
    if (slen == 0 || slen >= sizeof(buf)) return 0;
    memcpy(buf, s, slen);
    buf[slen] = '\0';
    errno = 0;
    value = strtold(buf, &eptr);
    if (isspace((unsigned char)buf[0]) || eptr[0] != '\0' ||
        ((errno == ERANGE) &&
         (value == HUGE_VALL || value == -HUGE_VALL || fpclassify(value) == FP_ZERO)) ||
        errno == EINVAL || isnan(value))
        return 0;
    *dp = value;
    return 1;
}

static void ld2string(char *buf, size_t len, long double value) {
    int l = snprintf(buf, len, "%.17Lf", value);
    if (strchr(buf, '.') != NULL) {
        char *p = buf + l - 1;
        while (*p == '0') { p--; l--; }
        if (*p == '.') l--;
    }
    if (l == 2 && buf[0] == '-' && buf[1] == '0') { buf[0] = '0'; l = 1; }
    buf[l] = '\0';
}

int main(void) {
    static char line[12 * 1024], out[6 * 1024];
    while (fgets(line, sizeof line, stdin)) {
        size_t n = strlen(line);
        if (n && line[n - 1] == '\n') line[--n] = '\0';
        char *tab = strchr(line, '\t');
        if (!tab) return 2;
        *tab = '\0';
        long double a, b;
        if (!string2ld(line, strlen(line), &a) || !string2ld(tab + 1, strlen(tab + 1), &b)) {
            puts("ERR NotAFloat");
            continue;
        }
        long double r = a + b;
        if (isnan(r) || isinf(r)) { puts("ERR NanOrInfinity"); continue; }
        ld2string(out, sizeof out, r);
        printf("OK %s\n", out);
    }
    return 0;
}
