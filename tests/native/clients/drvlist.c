/* What an application sees of the installed drivers, for the tap-install tests:
     drvlist
   prints one line per ACM driver acmDriverEnum lists ("acm SHORTNAME") and one per VfW codec
   ICInfo lists ("vidc FOURCC"), then "acm N vidc M". msacm32 and msvfw32 are loaded at run
   time, so the build needs no import library. */
#define WIN32_LEAN_AND_MEAN
#include <windows.h>
#include <mmsystem.h>
#include <mmreg.h>
#include <msacm.h>
#include <vfw.h>
#include <stdio.h>

typedef MMRESULT(WINAPI *enum_fn)(ACMDRIVERENUMCB, DWORD_PTR, DWORD);
typedef MMRESULT(WINAPI *details_fn)(HACMDRIVERID, LPACMDRIVERDETAILSA, DWORD);
typedef BOOL(VFWAPI *icinfo_fn)(DWORD, DWORD, ICINFO *);

static details_fn driver_details;
static int acm_count;

static BOOL CALLBACK list_acm(HACMDRIVERID id, DWORD_PTR unused, DWORD support) {
    ACMDRIVERDETAILSA details;
    (void)unused; (void)support;
    details.cbStruct = sizeof details;
    if (driver_details(id, &details, 0) != MMSYSERR_NOERROR)
        lstrcpyA(details.szShortName, "?");
    printf("acm %s\n", details.szShortName);
    acm_count++;
    return TRUE;
}

int main(void) {
    HMODULE acm = LoadLibraryA("msacm32.dll"), vfw = LoadLibraryA("msvfw32.dll");
    enum_fn driver_enum;
    icinfo_fn ic_info;
    ICINFO info;
    int codecs = 0;
    if (!acm || !vfw) {
        printf("error: msacm32 or msvfw32 not loadable\n");
        return 1;
    }
    driver_enum = (enum_fn)(void *)GetProcAddress(acm, "acmDriverEnum");
    driver_details = (details_fn)(void *)GetProcAddress(acm, "acmDriverDetailsA");
    ic_info = (icinfo_fn)(void *)GetProcAddress(vfw, "ICInfo");
    if (!driver_enum || !driver_details || !ic_info) {
        printf("error: an entry point is missing\n");
        return 1;
    }
    /* ACM_DRIVERENUMF_DISABLED: a driver the tap made fail to load is listed too */
    driver_enum(list_acm, 0, ACM_DRIVERENUMF_DISABLED);
    for (DWORD i = 0; ic_info(ICTYPE_VIDEO, i, &info); i++, codecs++)
        printf("vidc %.4s\n", (const char *)&info.fccHandler);
    printf("acm %d vidc %d\n", acm_count, codecs);
    return 0;
}
