import ArgumentParser
import Client
import Foundation
import RecorderAPI
import RecorderCore
import Wall

#if canImport(Glibc)
import Glibc
#endif

/// `make demo`: the simulated Tours centre as a site runs it, a recorder and its console.
struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The simulated Tours centre: a recorder recording every camera, and the wall as its client.",
        discussion: """
            Starts `vigie record` on the simulated Tours centre (Layouts/tours.yaml) with a demo storage quota, \
            so that rewinding has footage within minutes and the disk is never filled, then opens the wall \
            (Layouts/tours-wall.yaml) as the recorder's client on its socket. Quitting the wall stops the \
            recorder; its recordings stay (`vigie play`, `vigie recordings list`). When a recorder already \
            runs on that storage, the wall joins it and leaves it running. A second console on the same \
            recorder: `vigie wall --server STORAGE/recorder.sock` in another terminal, or, as another account, \
            `vigie login --server 127.0.0.1:7443 ...` then `vigie wall --server 127.0.0.1:7443` (the recorder's \
            certificate fingerprint is in its log, $VIGIE_STATE/demo-recorder.log).
            """)

    @Option(help: ArgumentHelp("The recordings' quota for the demo (a size, or a share of the disk).", valueName: "size"))
    var storageQuota: String = "4G"

    @Option(help: ArgumentHelp("The recorder also serves consoles over TLS 1.3 here (other accounts, other machines); \"none\": only its socket.", valueName: "host:port"))
    var listen: String = "127.0.0.1:7443"

    @OptionGroup var console: ConsoleArguments

    func validate() throws {
        if StorageQuota.parse(storageQuota) == nil { throw ValidationError("--storage-quota is a size (4G, 800M) or a share of the disk (10%)") }
        if console.server != nil { throw ValidationError("the demo runs its own recorder: for another one, `vigie wall --server`") }
        if console.record { throw ValidationError("in the demo the recorder records: no --record") }
    }

    func run() throws {
        let sitePath = try SiteLocator.resolve(nil)
        let inventory = try SiteLocator.load(sitePath)
        let layoutPath = URL(fileURLWithPath: sitePath).deletingLastPathComponent().appendingPathComponent("tours-wall.yaml").path
        let root = RecordingStore.root(given: console.storage, siteName: inventory.site.name)
        let socket = root.appendingPathComponent("recorder.sock").path
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        let state = ConsoleArguments.stateFolder
        try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
        let log = state + "/demo-recorder.log"

        try console.prepare(command: "demo")
        let recorder = try Demo.startRecorder(
            socket: socket, site: sitePath, root: root.path, quota: storageQuota, listen: listen == "none" ? nil : listen, log: log)
        do {
            let remote = try RemoteSite.connect(socket)
            let (layout, _) = try WallLayout.load(path: layoutPath, inventory: remote.inventory)
            try console.launch(remote: remote, layout: layout, layoutPath: layoutPath)
        } catch {
            Demo.stop(recorder, root: root.path)
            if let error = error as? ConfigurationError {
                for diagnostic in error.diagnostics { printError(diagnostic.description) }
                throw ExitCode(65)
            }
            throw error
        }
        Demo.stop(recorder, root: root.path)
    }

    /// Starts `vigie record` unless a recorder answers on the socket already; its pid, nil
    /// when one was running (the demo then leaves it running).
    static func startRecorder(socket: String, site: String, root: String, quota: String, listen: String?, log: String) throws -> pid_t? {
        if answers(socket) {
            printError("vigie demo: a recorder already runs on \(root): the wall joins it (and leaves it running)")
            return nil
        }
        printError("vigie demo: starting the recorder on \(root) (quota \(quota); its log: \(log))")
        // Ctrl-C or SIGTERM while the recorder starts: it is stopped too (it has a process group of its own).
        let stopAsked = SignalFlag.install()
        let pid = try spawn(
            ["record", "--site", site, "--storage", root, "--storage-quota", quota, "--log-level", "notice"] + (listen.map { ["--listen", $0] } ?? []), log: log)
        let deadline = Date().addingTimeInterval(60)
        var status: Int32 = 0
        while !answers(socket) {
            if stopAsked.isSet {
                stop(pid, root: root)
                throw ExitCode(130)
            }
            if waitpid(pid, &status, WNOHANG) == pid {
                printError("vigie demo: the recorder stopped at its start:")
                let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
                for line in text.split(separator: "\n").suffix(8) { printError("  \(line)") }
                throw ExitCode(69)
            }
            if Date() > deadline {
                kill(pid, SIGTERM)
                _ = waitpid(pid, &status, 0)
                printError("vigie demo: the recorder did not answer on \(socket) within 60 s (see \(log))")
                throw ExitCode(69)
            }
            usleep(200_000)
        }
        return pid
    }

    /// Stops the recorder the demo started (SIGTERM: it closes its segments), at most 20 s.
    static func stop(_ recorder: pid_t?, root: String) {
        guard let recorder else { return }
        kill(recorder, SIGTERM)
        var status: Int32 = 0
        let deadline = Date().addingTimeInterval(20)
        while waitpid(recorder, &status, WNOHANG) == 0 {
            if Date() >= deadline {
                kill(recorder, SIGKILL)
                _ = waitpid(recorder, &status, 0)
                break
            }
            usleep(100_000)
        }
        printError("vigie demo: the recorder stopped; the recordings stay in \(root) (`vigie recordings list`, `vigie play`)")
    }

    /// Whether a recorder answers on the socket.
    static func answers(_ socket: String) -> Bool {
        guard FileManager.default.fileExists(atPath: socket), let address = ServerAddress.parse(socket) else { return false }
        return (try? RecorderService(RecorderClient(address: address)).session()) != nil
    }

    /// This program with `arguments`, in a process group of its own (Ctrl-C in the console is
    /// the console's), its output to `log`.
    static func spawn(_ arguments: [String], log: String) throws -> pid_t {
        let program = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, log, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP))
        posix_spawnattr_setpgroup(&attributes, 0)
        let argv = ([program] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, program, &actions, &attributes, argv, environ)
        guard result == 0 else {
            printError("vigie demo: cannot start the recorder: \(String(cString: strerror(result)))")
            throw ExitCode(71)
        }
        return pid
    }
}
