/* The least a thread-faithful drvhost replay can cost per call: `thread_baton THREADS N` hands
   a turn round-robin between THREADS threads N times, each waiting on a condition variable of
   its own under one SRW lock, as drvhost's workers do (native/drvhost/host_schedule.c), and
   prints the hand-overs per second (bench/dllhost_bench.py reads the line). */
#define WIN32_LEAN_AND_MEAN
#include <windows.h>
#include <stdio.h>
#include <stdlib.h>

#define MAX_BATON_THREADS 64

static SRWLOCK lock = SRWLOCK_INIT;
static CONDITION_VARIABLE turn_of[MAX_BATON_THREADS];
static LONG turn, handovers, n_threads;

static DWORD WINAPI worker(void *arg)
{
    LONG me = (LONG)(INT_PTR)arg;
    for (LONG i = me; i < handovers; i += n_threads) {
        AcquireSRWLockExclusive(&lock);
        while (turn != i)
            SleepConditionVariableSRW(&turn_of[me], &lock, INFINITE, 0);
        turn = i + 1;
        WakeConditionVariable(&turn_of[(me + 1) % n_threads]);
        ReleaseSRWLockExclusive(&lock);
    }
    return 0;
}

int main(int argc, char **argv)
{
    n_threads = argc == 3 ? atol(argv[1]) : 0;
    handovers = argc == 3 ? atol(argv[2]) : 0;
    if (n_threads < 2 || n_threads > MAX_BATON_THREADS || handovers < 1) {
        fprintf(stderr, "usage: thread_baton THREADS(2-%d) HANDOVERS\n", MAX_BATON_THREADS);
        return 2;
    }
    HANDLE h[MAX_BATON_THREADS];
    LARGE_INTEGER freq, start, end;
    QueryPerformanceFrequency(&freq);
    QueryPerformanceCounter(&start);
    for (LONG t = 0; t < n_threads; t++) {
        InitializeConditionVariable(&turn_of[t]);
        if (!(h[t] = CreateThread(NULL, 0, worker, (void *)(INT_PTR)t, 0, NULL))) {
            fprintf(stderr, "thread_baton: CreateThread failed (%lu)\n", GetLastError());
            return 1;
        }
    }
    WaitForMultipleObjects((DWORD)n_threads, h, TRUE, INFINITE);
    QueryPerformanceCounter(&end);
    printf("%.1f handovers/s\n", handovers * (double)freq.QuadPart / (double)(end.QuadPart - start.QuadPart));
    return 0;
}
