/* cd_client.exe: opens the cdaudio device (no element: Wine's mcicda.dll looks for the first
   drive of type DRIVE_CDROM) through mciSendString and through mciSendCommand, printing each
   open's MCIERROR, and closes it if it opened. Exit 0 whatever the opens answered: a machine
   with no CD drive is what the tests record. */
#include <windows.h>
#include <mmsystem.h>
#include <stdio.h>

int wmain(void)
{
    wchar_t answer[128] = L"";
    MCIERROR err = mciSendStringW(L"open cdaudio alias cd", answer, ARRAYSIZE(answer), NULL);
    printf("string open: %lu\n", (unsigned long)err);
    if (!err)
        printf("string close: %lu\n", (unsigned long)mciSendStringW(L"close cd", NULL, 0, NULL));
    MCI_OPEN_PARMSW open = {0};
    open.lpstrDeviceType = L"cdaudio";
    err = mciSendCommandW(0, MCI_OPEN, MCI_OPEN_TYPE | MCI_WAIT, (DWORD_PTR)&open);
    printf("command open: %lu\n", (unsigned long)err);
    if (!err) {
        MCI_GENERIC_PARMS close = {0};
        printf("command close: %lu\n",
               (unsigned long)mciSendCommandW(open.wDeviceID, MCI_CLOSE, MCI_WAIT, (DWORD_PTR)&close));
    }
    fflush(stdout);
    return 0;
}
