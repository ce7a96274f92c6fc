public import Foundation

/// A program started with posix_spawn and reaped with waitpid on its own pid.
///
/// Foundation's `Process` on Linux reaps children from a shared handler; under the test
/// runner's parallel suites a child was seen left a zombie and `waitUntilExit()` never
/// returned. Tests start their programs with this instead.
public final class ChildProcess: @unchecked Sendable {  // pid and status are set once, on the creating thread
    public let pid: pid_t
    private var status: Int32?

    /// Starts `path` with `arguments`; standard output and error go to the given files
    /// (or /dev/null), standard input is the file `stdin` (or /dev/null). `environment` adds
    /// to the current one.
    public init(
        _ path: String, _ arguments: [String], environment: [String: String]? = nil, stdin: String? = nil, stdout: String? = nil, stderr: String? = nil
    ) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, stdin ?? "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, stdout ?? "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, stderr ?? "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        // A fresh signal state: the test runner's blocked or ignored signals must not pass on.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGTERM, SIGINT, SIGHUP, SIGPIPE, SIGCHLD] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        var merged = ProcessInfo.processInfo.environment
        for (key, value) in environment ?? [:] { merged[key] = value }
        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        let envp = merged.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for pointer in argv { free(pointer) }
            for pointer in envp { free(pointer) }
        }
        var pid = pid_t()
        let result = posix_spawn(&pid, path, &actions, &attributes, argv, envp)
        guard result == 0 else { throw FixtureError("cannot start \(path): \(String(cString: strerror(result)))") }
        self.pid = pid
    }

    /// Waits for the program to end; returns its exit status (128 + signal when killed).
    @discardableResult
    public func wait() -> Int32 {
        if let status { return status }
        var raw: Int32 = 0
        var usage = rusage()
        while wait4(pid, &raw, 0, &usage) < 0 && errno == EINTR {}
        let code = (raw & 0x7F) == 0 ? (raw >> 8) & 0xFF : 128 + (raw & 0x7F)
        status = code
        maximumResidentKilobytes = Int(usage.ru_maxrss)
        return code
    }

    /// The program's peak memory (resident set), known once `wait()` returned.
    public private(set) var maximumResidentKilobytes = 0

    /// Whether it has ended (without waiting).
    public var hasEnded: Bool {
        if status != nil { return true }
        var raw: Int32 = 0
        let result = waitpid(pid, &raw, WNOHANG)
        if result == pid {
            status = (raw & 0x7F) == 0 ? (raw >> 8) & 0xFF : 128 + (raw & 0x7F)
            return true
        }
        return false
    }

    public func kill(_ signal: Int32 = SIGKILL) {
        if status == nil { _ = Glibc.kill(pid, signal) }
    }

    deinit {
        if status == nil {
            _ = Glibc.kill(pid, SIGKILL)
            _ = wait()
        }
    }
}
