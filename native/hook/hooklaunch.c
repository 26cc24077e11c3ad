/*
 * hooklaunch: start a program with the recording hook in it.
 *     hooklaunch HOOK.DLL PROGRAM [ARGS]
 * The program is created suspended, the hook queued to load in it (inject.h), and it is
 * resumed: the hook is in place before the program's first instruction. No registry value is
 * touched, and no file outside the hook's folder. Exits with the program's exit code (127: the
 * program could not be started or hooked; why is then the one line of hooklaunch.err beside
 * HOOK.DLL, in UTF-8, so drvtape can tell it from a program's own 127).
 *     hooklaunch --into PID TID HOOK.DLL
 * queues the hook's load in process PID, created suspended by another (its first thread TID),
 * and exits 0 (127: it could not). The x64 hook runs the x86 build so for a 32-bit child: the
 * load must be queued at the 32-bit LoadLibraryW, which only a 32-bit process knows.
 */
#define WIN32_LEAN_AND_MEAN
#include <windows.h>
#include <stdio.h>
#include <string.h>
#include <wchar.h>

#include "inject.h"

#define LAUNCH_FAILED 127

/* Append arg to cmd quoted as CommandLineToArgvW and the C runtime read it back. */
static void append_quoted(WCHAR *cmd, size_t units, const WCHAR *arg)
{
    size_t n = wcslen(cmd);
    if (n && n + 1 < units)
        cmd[n++] = L' ';
    BOOL plain = arg[0] && !wcspbrk(arg, L" \t\n\v\"");
    if (plain) {
        lstrcpynW(cmd + n, arg, (int)(units - n));
        return;
    }
    if (n + 1 < units)
        cmd[n++] = L'"';
    for (const WCHAR *p = arg;; p++) {
        size_t slashes = 0;
        while (*p == L'\\') {
            p++;
            slashes++;
        }
        /* backslashes are doubled before a quote (ours at the end or one in the arg) */
        size_t emit = (*p == 0 || *p == L'"') ? slashes * 2 + (*p == L'"') : slashes;
        for (size_t i = 0; i < emit && n + 1 < units; i++)
            cmd[n++] = L'\\';
        if (*p == 0)
            break;
        if (n + 1 < units)
            cmd[n++] = *p;
    }
    if (n + 1 < units)
        cmd[n++] = L'"';
    cmd[n] = 0;
}

static int fail(const char *what)
{
    fprintf(stderr, "hooklaunch: %s (error %lu)\n", what, GetLastError());
    return LAUNCH_FAILED;
}

/* The program could not be launched: WHAT and the system's text for the last error, as one
   line in hooklaunch.err beside HOOK; on stderr if that file cannot be written. */
static int launch_failed(const WCHAR *hook, const char *what)
{
    DWORD error = GetLastError();
    WCHAR path[MAX_PATH + 32];
    const WCHAR *slash = wcsrchr(hook, L'\\');
    int folder = slash ? (int)(slash - hook + 1) : 0;
    _snwprintf(path, ARRAYSIZE(path), L"%.*lshooklaunch.err", folder, hook);
    path[ARRAYSIZE(path) - 1] = 0;
    WCHAR text[512] = L"";
    DWORD n = FormatMessageW(FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS, NULL, error, 0, text,
                             ARRAYSIZE(text), NULL);
    while (n && (text[n - 1] == L'\n' || text[n - 1] == L'\r' || text[n - 1] == L' ' || text[n - 1] == L'.'))
        text[--n] = 0;
    char message[1536] = "";
    WideCharToMultiByte(CP_UTF8, 0, text, -1, message, (int)sizeof message, NULL, NULL);
    message[sizeof message - 1] = 0;
    char line[2048];
    int len = snprintf(line, sizeof line, "%s: %s (Windows error %lu)", what, message, error);
    if (len < 0 || len >= (int)sizeof line)
        len = (int)strlen(line);
    HANDLE file = CreateFileW(path, GENERIC_WRITE, 0, NULL, CREATE_ALWAYS, FILE_ATTRIBUTE_NORMAL, NULL);
    DWORD written = 0;
    BOOL ok = file != INVALID_HANDLE_VALUE && WriteFile(file, line, (DWORD)len, &written, NULL) && written == (DWORD)len;
    if (file != INVALID_HANDLE_VALUE)
        CloseHandle(file);
    if (!ok)
        fprintf(stderr, "hooklaunch: %s\n", line);
    return LAUNCH_FAILED;
}

static int hook_into(const WCHAR *pid, const WCHAR *tid, const WCHAR *hook)
{
    HANDLE process = OpenProcess(PROCESS_VM_OPERATION | PROCESS_VM_WRITE, FALSE, wcstoul(pid, NULL, 10));
    HANDLE thread = OpenThread(THREAD_SET_CONTEXT, FALSE, wcstoul(tid, NULL, 10));
    BOOL ok = process && thread && inject_hook(process, thread, hook);
    int code = ok ? 0 : fail("cannot put the hook in the process");
    if (process)
        CloseHandle(process);
    if (thread)
        CloseHandle(thread);
    return code;
}

int wmain(int argc, WCHAR **argv)
{
    if (argc == 5 && wcscmp(argv[1], L"--into") == 0)
        return hook_into(argv[2], argv[3], argv[4]);
    if (argc < 3) {
        fprintf(stderr, "usage: hooklaunch HOOK.DLL PROGRAM [ARGS] | --into PID TID HOOK.DLL\n");
        return 2;
    }
    if (GetFileAttributesW(argv[1]) == INVALID_FILE_ATTRIBUTES)
        return launch_failed(argv[1], "no hook DLL there"); /* the APC's LoadLibraryW would fail unseen */
    static WCHAR cmd[32768];
    for (int i = 2; i < argc; i++)
        append_quoted(cmd, ARRAYSIZE(cmd), argv[i]);

    STARTUPINFOW si = {.cb = sizeof si};
    PROCESS_INFORMATION pi;
    if (!CreateProcessW(NULL, cmd, NULL, NULL, TRUE, CREATE_SUSPENDED, NULL, NULL, &si, &pi))
        return launch_failed(argv[1], "cannot start it");
    /* the program (and the children it starts) end with the launcher: drvtape stops the
       launcher when it is interrupted */
    HANDLE job = CreateJobObjectW(NULL, NULL);
    JOBOBJECT_EXTENDED_LIMIT_INFORMATION limits = {0};
    limits.BasicLimitInformation.LimitFlags = JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE;
    if (job)
        SetInformationJobObject(job, JobObjectExtendedLimitInformation, &limits, sizeof limits);
    if (job)
        AssignProcessToJobObject(job, pi.hProcess);

    if (!inject_hook(pi.hProcess, pi.hThread, argv[1])) {
        int code = launch_failed(argv[1], "cannot put the hook in it");
        TerminateProcess(pi.hProcess, LAUNCH_FAILED);
        return code;
    }
    ResumeThread(pi.hThread);
    CloseHandle(pi.hThread);
    WaitForSingleObject(pi.hProcess, INFINITE);
    DWORD code = LAUNCH_FAILED;
    GetExitCodeProcess(pi.hProcess, &code);
    CloseHandle(pi.hProcess);
    return (int)code;
}
