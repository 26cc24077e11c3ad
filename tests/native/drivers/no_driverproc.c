/* A DLL that is not a driver: it exports no DriverProc. */
__declspec(dllexport) int NotADriver(void) { return 0; }
