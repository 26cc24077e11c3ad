/* Faults: the unhandled-exception filter that reports the call a fault happened in
   (host_faults.c). */
#ifndef DRVHOST_FAULTS_H
#define DRVHOST_FAULTS_H

/* Install the filter: a fault from now on is an ERROR (while loading the DLL) or a FAULT. */
void faults_catch(void);
/* The DLL is loaded: install the filter again (DllMain may have replaced it); faults are FAULTs. */
void faults_driver_loaded(void);

#endif
