/* A file name against a pattern of * (any run) and ? (any one unit), ASCII letters compared
   without case. */
#ifndef DRVHOOK_WILDCARD_H
#define DRVHOOK_WILDCARD_H

#include <wchar.h>
#include <wctype.h>

static inline int wildcard_match(const wchar_t *pattern, const wchar_t *name)
{
    const wchar_t *star = NULL, *resume = NULL;
    while (*name) {
        if (*pattern == L'*') {
            star = pattern++;
            resume = name;
        } else if (*pattern == L'?' || towlower(*pattern) == towlower(*name)) {
            pattern++;
            name++;
        } else if (star) {
            pattern = star + 1;
            name = ++resume;
        } else {
            return 0;
        }
    }
    while (*pattern == L'*')
        pattern++;
    return *pattern == 0;
}

#endif
