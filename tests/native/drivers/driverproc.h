/* What every test driver needs: the DriverProc signature and the DRV_* codes. */
#ifndef TEST_DRIVERPROC_H
#define TEST_DRIVERPROC_H
#define WIN32_LEAN_AND_MEAN
#include <windows.h>
#include <mmsystem.h>

#define DRIVERPROC_EXPORT __declspec(dllexport) LRESULT WINAPI
#endif
