"""The structs behind ICM_* and ACMDM_* parameters, field for field as the headers declare
them: wingdi.h (BITMAPINFOHEADER), mmreg.h (WAVEFORMATEX, WAVEFILTER: pshpack1), vfw.h
(IC*: natural alignment), msacm.h (ACM*DETAILSW: pshpack1) and mmsystem.h, mmddk.h and
digitalv.h (MCI_*_PARMS: pshpack1 throughout, as in the Windows SDK) from mingw-w64, and Wine's
include/msacmdrv.h (not shipped by mingw) for the driver-side ACMDRV* structs:
ACMDRVSTREAMINSTANCE, ACMDRVSTREAMSIZE and ACMDRVFORMATSUGGEST with natural alignment,
ACMDRVSTREAMHEADER inside #include <pshpack1.h>.
"""

from drvtape.schema.memory.layout import (
    DWORD, DWORD_PTR, HANDLE, INT, LONG, LRESULT, PTR, UINT, WCHAR, WORD, StructLayout, struct,
)

BITMAPINFOHEADER = struct(
    "BITMAPINFOHEADER",
    ("biSize", DWORD), ("biWidth", LONG), ("biHeight", LONG), ("biPlanes", WORD), ("biBitCount", WORD),
    ("biCompression", DWORD), ("biSizeImage", DWORD), ("biXPelsPerMeter", LONG), ("biYPelsPerMeter", LONG),
    ("biClrUsed", DWORD), ("biClrImportant", DWORD),
)
WAVEFORMATEX = struct(
    "WAVEFORMATEX",
    ("wFormatTag", WORD), ("nChannels", WORD), ("nSamplesPerSec", DWORD), ("nAvgBytesPerSec", DWORD),
    ("nBlockAlign", WORD), ("wBitsPerSample", WORD), ("cbSize", WORD),
    pack=1,
)
WAVEFILTER = struct(
    "WAVEFILTER",
    ("cbStruct", DWORD), ("dwFilterTag", DWORD), ("fdwFilter", DWORD), ("dwReserved", DWORD, 5),
    pack=1,
)

RECT = struct("RECT", ("left", LONG), ("top", LONG), ("right", LONG), ("bottom", LONG))  # windef.h

# vfw.h
ICOPEN = struct(
    "ICOPEN",
    ("dwSize", DWORD), ("fccType", DWORD), ("fccHandler", DWORD), ("dwVersion", DWORD), ("dwFlags", DWORD),
    ("dwError", LRESULT), ("pV1Reserved", DWORD_PTR), ("pV2Reserved", DWORD_PTR), ("dnDevNode", DWORD),
)
ICINFO = struct(
    "ICINFO",
    ("dwSize", DWORD), ("fccType", DWORD), ("fccHandler", DWORD), ("dwFlags", DWORD), ("dwVersion", DWORD),
    ("dwVersionICM", DWORD), ("szName", WCHAR, 16), ("szDescription", WCHAR, 128), ("szDriver", WCHAR, 128),
)
ICCOMPRESS = struct(
    "ICCOMPRESS",
    ("dwFlags", DWORD), ("lpbiOutput", PTR), ("lpOutput", PTR), ("lpbiInput", PTR), ("lpInput", PTR),
    ("lpckid", PTR), ("lpdwFlags", PTR), ("lFrameNum", LONG), ("dwFrameSize", DWORD), ("dwQuality", DWORD),
    ("lpbiPrev", PTR), ("lpPrev", PTR),
)
ICCOMPRESSFRAMES = struct(
    "ICCOMPRESSFRAMES",
    ("dwFlags", DWORD), ("lpbiOutput", PTR), ("lOutput", DWORD_PTR), ("lpbiInput", PTR), ("lInput", DWORD_PTR),
    ("lStartFrame", LONG), ("lFrameCount", LONG), ("lQuality", LONG), ("lDataRate", LONG), ("lKeyRate", LONG),
    ("dwRate", DWORD), ("dwScale", DWORD), ("dwOverheadPerFrame", DWORD), ("dwReserved2", DWORD),
    ("GetData", DWORD_PTR), ("PutData", DWORD_PTR),  # callbacks into the application: values, never followed
)
ICSETSTATUSPROC = struct(
    "ICSETSTATUSPROC",
    ("dwFlags", DWORD), ("lParam", DWORD_PTR), ("Status", DWORD_PTR),  # Status: a callback, kept as a value
)
ICDECOMPRESS = struct(
    "ICDECOMPRESS",
    ("dwFlags", DWORD), ("lpbiInput", PTR), ("lpInput", PTR), ("lpbiOutput", PTR), ("lpOutput", PTR),
    ("ckid", DWORD),
)
ICDECOMPRESSEX = struct(
    "ICDECOMPRESSEX",
    ("dwFlags", DWORD), ("lpbiSrc", PTR), ("lpSrc", PTR), ("lpbiDst", PTR), ("lpDst", PTR),
    ("xDst", INT), ("yDst", INT), ("dxDst", INT), ("dyDst", INT),
    ("xSrc", INT), ("ySrc", INT), ("dxSrc", INT), ("dySrc", INT),
)
ICDRAWBEGIN = struct(
    "ICDRAWBEGIN",
    ("dwFlags", DWORD), ("hpal", HANDLE), ("hwnd", HANDLE), ("hdc", HANDLE),
    ("xDst", INT), ("yDst", INT), ("dxDst", INT), ("dyDst", INT), ("lpbi", PTR),
    ("xSrc", INT), ("ySrc", INT), ("dxSrc", INT), ("dySrc", INT), ("dwRate", DWORD), ("dwScale", DWORD),
)
ICDRAW = struct(
    "ICDRAW",
    ("dwFlags", DWORD), ("lpFormat", PTR), ("lpData", PTR), ("cbData", DWORD), ("lTime", LONG),
)
ICDRAWSUGGEST = struct(
    "ICDRAWSUGGEST",
    ("lpbiIn", PTR), ("lpbiSuggest", PTR), ("dxSrc", INT), ("dySrc", INT), ("dxDst", INT), ("dyDst", INT),
    ("hicDecompressor", HANDLE),
)
ICPALETTE = struct(
    "ICPALETTE",
    ("dwFlags", DWORD), ("iStart", INT), ("iLen", INT), ("lppe", PTR),
)

# msacm.h (pshpack1 throughout, in mingw's and in Wine's)
ACMDRIVERDETAILSW = struct(
    "ACMDRIVERDETAILSW",
    ("cbStruct", DWORD), ("fccType", DWORD), ("fccComp", DWORD), ("wMid", WORD), ("wPid", WORD),
    ("vdwACM", DWORD), ("vdwDriver", DWORD), ("fdwSupport", DWORD), ("cFormatTags", DWORD),
    ("cFilterTags", DWORD), ("hicon", HANDLE), ("szShortName", WCHAR, 32), ("szLongName", WCHAR, 128),
    ("szCopyright", WCHAR, 80), ("szLicensing", WCHAR, 128), ("szFeatures", WCHAR, 512),
    pack=1,
)
ACMFORMATTAGDETAILSW = struct(
    "ACMFORMATTAGDETAILSW",
    ("cbStruct", DWORD), ("dwFormatTagIndex", DWORD), ("dwFormatTag", DWORD), ("cbFormatSize", DWORD),
    ("fdwSupport", DWORD), ("cStandardFormats", DWORD), ("szFormatTag", WCHAR, 48),
    pack=1,
)
ACMFORMATDETAILSW = struct(
    "ACMFORMATDETAILSW",
    ("cbStruct", DWORD), ("dwFormatIndex", DWORD), ("dwFormatTag", DWORD), ("fdwSupport", DWORD),
    ("pwfx", PTR), ("cbwfx", DWORD), ("szFormat", WCHAR, 128),
    pack=1,
)
ACMFILTERTAGDETAILSW = struct(
    "ACMFILTERTAGDETAILSW",
    ("cbStruct", DWORD), ("dwFilterTagIndex", DWORD), ("dwFilterTag", DWORD), ("cbFilterSize", DWORD),
    ("fdwSupport", DWORD), ("cStandardFilters", DWORD), ("szFilterTag", WCHAR, 48),
    pack=1,
)
ACMFILTERDETAILSW = struct(
    "ACMFILTERDETAILSW",
    ("cbStruct", DWORD), ("dwFilterIndex", DWORD), ("dwFilterTag", DWORD), ("fdwSupport", DWORD),
    ("pwfltr", PTR), ("cbwfltr", DWORD), ("szFilter", WCHAR, 128),
    pack=1,
)

# Wine's msacmdrv.h
ACMDRVSTREAMINSTANCE = struct(
    "ACMDRVSTREAMINSTANCE",
    ("cbStruct", DWORD), ("pwfxSrc", PTR), ("pwfxDst", PTR), ("pwfltr", PTR), ("dwCallback", DWORD_PTR),
    ("dwInstance", DWORD_PTR), ("fdwOpen", DWORD), ("fdwDriver", DWORD), ("dwDriver", DWORD_PTR),
    ("has", HANDLE),
)
ACMDRVSTREAMHEADER = struct(
    "ACMDRVSTREAMHEADER",
    ("cbStruct", DWORD), ("fdwStatus", DWORD), ("dwUser", DWORD_PTR), ("pbSrc", PTR), ("cbSrcLength", DWORD),
    ("cbSrcLengthUsed", DWORD), ("dwSrcUser", DWORD_PTR), ("pbDst", PTR), ("cbDstLength", DWORD),
    ("cbDstLengthUsed", DWORD), ("dwDstUser", DWORD_PTR), ("fdwConvert", DWORD),
    ("padshNext", DWORD_PTR),  # msacm32's queue link: never followed by a driver
    ("fdwDriver", DWORD), ("dwDriver", DWORD_PTR),
    # msacm32's own fields: it checks the prepared copies of pbSrc/pbDst, drivers do not read them
    ("fdwPrepared", DWORD), ("dwPrepared", DWORD_PTR), ("pbPreparedSrc", DWORD_PTR),
    ("cbPreparedSrcLength", DWORD), ("pbPreparedDst", DWORD_PTR), ("cbPreparedDstLength", DWORD),
    pack=1,
)
ACMDRVSTREAMSIZE = struct(
    "ACMDRVSTREAMSIZE",
    ("cbStruct", DWORD), ("fdwSize", DWORD), ("cbSrcLength", DWORD), ("cbDstLength", DWORD),
)
ACMDRVFORMATSUGGEST = struct(
    "ACMDRVFORMATSUGGEST",
    ("cbStruct", DWORD), ("fdwSuggest", DWORD), ("pwfxSrc", PTR), ("cbwfxSrc", DWORD), ("pwfxDst", PTR),
    ("cbwfxDst", DWORD),
)

# mmsystem.h, mmddk.h (MCI_OPEN_DRIVER_PARMS, which mmddk.h declares with LPCWSTR) and
# digitalv.h: pshpack1, so MCI_OPEN_PARMSW's pointers follow wDeviceID unaligned on x64
MCI = 1  # the pack of every MCI struct
MCI_OPEN_DRIVER_PARMS = struct(
    "MCI_OPEN_DRIVER_PARMS",
    ("wDeviceID", UINT), ("lpstrParams", PTR), ("wCustomCommandTable", UINT), ("wType", UINT), pack=MCI,
)
MCI_GENERIC_PARMS = struct("MCI_GENERIC_PARMS", ("dwCallback", DWORD_PTR), pack=MCI)
MCI_DGV_OPEN_PARMSW = struct(  # MCI_OPEN_PARMSW and MCI_WAVE_OPEN_PARMSW are its first fields
    "MCI_DGV_OPEN_PARMSW",
    ("dwCallback", DWORD_PTR), ("wDeviceID", UINT), ("lpstrDeviceType", PTR), ("lpstrElementName", PTR),
    ("lpstrAlias", PTR), ("dwStyle", DWORD), ("hWndParent", HANDLE), pack=MCI,
)
MCI_OPEN_PARMSW = struct(
    "MCI_OPEN_PARMSW",
    ("dwCallback", DWORD_PTR), ("wDeviceID", UINT), ("lpstrDeviceType", PTR), ("lpstrElementName", PTR),
    ("lpstrAlias", PTR), pack=MCI,
)
MCI_WAVE_OPEN_PARMSW = struct(
    "MCI_WAVE_OPEN_PARMSW",
    ("dwCallback", DWORD_PTR), ("wDeviceID", UINT), ("lpstrDeviceType", PTR), ("lpstrElementName", PTR),
    ("lpstrAlias", PTR), ("dwBufferSeconds", DWORD), pack=MCI,
)
MCI_PLAY_PARMS = struct("MCI_PLAY_PARMS", ("dwCallback", DWORD_PTR), ("dwFrom", DWORD), ("dwTo", DWORD), pack=MCI)
MCI_RECORD_PARMS = struct("MCI_RECORD_PARMS", ("dwCallback", DWORD_PTR), ("dwFrom", DWORD), ("dwTo", DWORD),
                          pack=MCI)
MCI_SEEK_PARMS = struct("MCI_SEEK_PARMS", ("dwCallback", DWORD_PTR), ("dwTo", DWORD), pack=MCI)
MCI_STATUS_PARMS = struct(
    "MCI_STATUS_PARMS",
    ("dwCallback", DWORD_PTR), ("dwReturn", DWORD_PTR), ("dwItem", DWORD), ("dwTrack", DWORD), pack=MCI,
)
MCI_INFO_PARMSW = struct(
    "MCI_INFO_PARMSW", ("dwCallback", DWORD_PTR), ("lpstrReturn", PTR), ("dwRetSize", DWORD), pack=MCI,
)
MCI_GETDEVCAPS_PARMS = struct(
    "MCI_GETDEVCAPS_PARMS", ("dwCallback", DWORD_PTR), ("dwReturn", DWORD), ("dwItem", DWORD), pack=MCI,
)
MCI_SET_PARMS = struct("MCI_SET_PARMS", ("dwCallback", DWORD_PTR), ("dwTimeFormat", DWORD), ("dwAudio", DWORD),
                       pack=MCI)
MCI_WAVE_SET_PARMS = struct(  # the largest MCI_SET variant: MCI_SET_PARMS, then the wave fields
    "MCI_WAVE_SET_PARMS",
    ("dwCallback", DWORD_PTR), ("dwTimeFormat", DWORD), ("dwAudio", DWORD), ("wInput", UINT), ("wOutput", UINT),
    ("wFormatTag", WORD), ("wReserved2", WORD), ("nChannels", WORD), ("wReserved3", WORD),
    ("nSamplesPerSec", DWORD), ("nAvgBytesPerSec", DWORD), ("nBlockAlign", WORD), ("wReserved4", WORD),
    ("wBitsPerSample", WORD), ("wReserved5", WORD), pack=MCI,
)
MCI_SEQ_SET_PARMS = struct(
    "MCI_SEQ_SET_PARMS",
    ("dwCallback", DWORD_PTR), ("dwTimeFormat", DWORD), ("dwAudio", DWORD), ("dwTempo", DWORD), ("dwPort", DWORD),
    ("dwSlave", DWORD), ("dwMaster", DWORD), ("dwOffset", DWORD), pack=MCI,
)
MCI_SAVE_PARMSW = struct("MCI_SAVE_PARMSW", ("dwCallback", DWORD_PTR), ("lpfilename", PTR), pack=MCI)
MCI_LOAD_PARMSW = struct("MCI_LOAD_PARMSW", ("dwCallback", DWORD_PTR), ("lpfilename", PTR), pack=MCI)
MCI_LAYOUTS = (
    MCI_OPEN_DRIVER_PARMS, MCI_GENERIC_PARMS, MCI_DGV_OPEN_PARMSW, MCI_OPEN_PARMSW, MCI_WAVE_OPEN_PARMSW,
    MCI_PLAY_PARMS, MCI_RECORD_PARMS, MCI_SEEK_PARMS, MCI_STATUS_PARMS, MCI_INFO_PARMSW, MCI_GETDEVCAPS_PARMS,
    MCI_SET_PARMS, MCI_WAVE_SET_PARMS, MCI_SEQ_SET_PARMS, MCI_SAVE_PARMSW, MCI_LOAD_PARMSW,
)

ALL_LAYOUTS: tuple[StructLayout, ...] = (
    BITMAPINFOHEADER, WAVEFORMATEX, WAVEFILTER, RECT, ICOPEN, ICINFO, ICCOMPRESS, ICCOMPRESSFRAMES, ICSETSTATUSPROC,
    ICDECOMPRESS, ICDECOMPRESSEX, ICDRAWBEGIN, ICDRAW, ICDRAWSUGGEST, ICPALETTE, ACMDRIVERDETAILSW,
    ACMFORMATTAGDETAILSW, ACMFORMATDETAILSW, ACMFILTERTAGDETAILSW, ACMFILTERDETAILSW, ACMDRVSTREAMINSTANCE,
    ACMDRVSTREAMHEADER, ACMDRVSTREAMSIZE, ACMDRVFORMATSUGGEST, *MCI_LAYOUTS,
)
# Layouts whose header mingw does not ship: the layout test checks them against a copy of
# Wine's definitions (tests/native/wine_msacmdrv.h).
WINE_ONLY = frozenset({"ACMDRVSTREAMINSTANCE", "ACMDRVSTREAMHEADER", "ACMDRVSTREAMSIZE", "ACMDRVFORMATSUGGEST"})
