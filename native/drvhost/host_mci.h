/* What an MCI driver asks of winmm about its devices, answered by drvhost (host_mci.c). */
#ifndef DRVHOST_HOST_MCI_H
#define DRVHOST_HOST_MCI_H

#include <windows.h>

/* Point the driver module's imports of winmm's mciSetDriverData, mciGetDriverData and
   mciDriverNotify at drvhost's own (a module importing none of them is left as it is). */
void mci_attach(HMODULE driver);

#endif
