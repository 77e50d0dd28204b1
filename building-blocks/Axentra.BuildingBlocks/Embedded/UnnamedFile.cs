using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Axentra.BuildingBlocks.Embedded;

/// <summary>
/// Linux's unnamed files: <c>open(folder, O_TMPFILE)</c> creates a file with no name in that folder, and
/// <c>linkat</c> gives it one once its bytes are written. An object then appears whole or not at all, like a
/// temporary file renamed into place, without the temporary name: one folder entry written instead of one created,
/// looked up and removed, and nothing left behind by a killed process.
/// </summary>
internal static partial class UnnamedFile
{
    public const int NoSuchEntry = 2; // ENOENT
    public const int Exists = 17; // EEXIST

    private const int NotPermitted = 1; // EPERM
    private const int CrossDevice = 18; // EXDEV
    private const int IsDirectory = 21; // EISDIR
    private const int InvalidArgument = 22; // EINVAL
    private const int NotSupported = 95; // EOPNOTSUPP

    private const int WriteOnly = 0x1; // O_WRONLY
    private const int CloseOnExec = 0x80000; // O_CLOEXEC
    private const int CurrentDirectory = -100; // AT_FDCWD
    private const int FollowSymlink = 0x400; // AT_SYMLINK_FOLLOW
    private const int ReadWriteForAll = 0x1B6; // 0666, narrowed by the umask like any created file

    /// <summary>O_TMPFILE (with O_DIRECTORY), whose value differs between architectures; 0 where it is not known.</summary>
    private static readonly int TmpFile = RuntimeInformation.ProcessArchitecture switch
    {
        Architecture.X64 => 0x410000,
        Architecture.Arm64 => 0x404000,
        _ => 0,
    };

    /// <summary>Whether to try unnamed files at all: Linux on an architecture whose flag value is known.</summary>
    public static bool MayWork => OperatingSystem.IsLinux() && TmpFile != 0;

    /// <summary>
    /// Whether a failed open or link means unnamed files cannot be used here: no O_TMPFILE in the kernel or the file
    /// system (EOPNOTSUPP, EISDIR, EINVAL), no /proc to link from (ENOENT, EXDEV), or a link refused (EPERM).
    /// </summary>
    public static bool MeansUnsupported(int errno) =>
        errno is NotSupported or IsDirectory or InvalidArgument or NoSuchEntry or CrossDevice or NotPermitted;

    /// <summary>An unnamed file in <paramref name="folder"/>, or null with the errno (the file system may not support them).</summary>
    public static SafeFileHandle? Create(string folder, out int errno)
    {
        var fd = Open(folder, WriteOnly | CloseOnExec | TmpFile, ReadWriteForAll);
        if (fd < 0)
        {
            errno = Marshal.GetLastPInvokeError();
            return null;
        }

        errno = 0;
        return new SafeFileHandle(fd, ownsHandle: true);
    }

    /// <summary>Names the unnamed file <paramref name="path"/>: 0, or the errno (<see cref="Exists"/> when the name is taken).</summary>
    public static int Link(SafeFileHandle file, string path) =>
        LinkAt(CurrentDirectory, $"/proc/self/fd/{file.DangerousGetHandle()}", CurrentDirectory, path, FollowSymlink) == 0
            ? 0
            : Marshal.GetLastPInvokeError();

    /// <summary>
    /// Gives the file at <paramref name="existing"/> the further name <paramref name="path"/>: 0, or the errno
    /// (<see cref="Exists"/> when the name is taken). Unlike a move that checks first, two callers racing for one
    /// name cannot both succeed.
    /// </summary>
    public static int LinkName(string existing, string path) =>
        LinkAt(CurrentDirectory, existing, CurrentDirectory, path, 0) == 0 ? 0 : Marshal.GetLastPInvokeError();

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags, int mode);

    [LibraryImport("libc", EntryPoint = "linkat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int LinkAt(int oldDirectory, string oldPath, int newDirectory, string newPath, int flags);
}
