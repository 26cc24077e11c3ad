/* A winmm MIDI client for the hook's device-entry-point tests: plays three short messages
   through the MIDI mapper as an application does (midiOutGetNumDevs, midiOutGetDevCapsW,
   midiOutOpen(MIDI_MAPPER, CALLBACK_NULL), midiOutShortMsg x3, midiOutReset, midiOutClose), so
   winmm loads its MIDI drivers (Wine's midimap.dll and the audio driver) and looks up their
   modMessage. Prints each answer; exit 0.
   Built by the tests with -municode and the import library winmm. */
#define WIN32_LEAN_AND_MEAN
#include <windows.h>
#include <mmsystem.h>
#include <stdio.h>

int wmain(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    printf("devices %u\n", midiOutGetNumDevs());
    MIDIOUTCAPSW caps;
    printf("caps %u\n", midiOutGetDevCapsW(MIDI_MAPPER, &caps, sizeof caps));
    HMIDIOUT out;
    MMRESULT r = midiOutOpen(&out, MIDI_MAPPER, 0, 0, CALLBACK_NULL);
    printf("open %u\n", r);
    if (r)
        return 0; /* no MIDI device here: the mapper's lookups and answers are what is recorded */
    static const DWORD notes[] = {0x00403C90, 0x00404090, 0x00004390};
    for (int i = 0; i < 3; i++)
        printf("short %u\n", midiOutShortMsg(out, notes[i]));
    printf("reset %u\n", midiOutReset(out));
    printf("close %u\n", midiOutClose(out));
    return 0;
}
