import ArgumentParser
import Foundation
import Logging
import Media
import Metrics
import Prometheus
import RecorderCore
import Server

struct Record: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Record every camera's main stream into segments, with the catalog, retention and holds.",
        discussion: """
            Stream copy (no re-encoding) into MPEG-TS segments of about a minute cut on keyframes, \
            STORAGE/CAMERA/YYYY-MM-DD/HHMMSS.ts (UTC). Footage past its retention is destroyed \
            continuously unless a hold covers it; on a full disk the oldest unheld footage goes first, and \
            when only held footage is left recording pauses until space returns. A damaged catalog is set \
            aside and rebuilt from the footage files (and its last backup). SIGTERM or Ctrl-C closes the \
            segments cleanly; after a crash the next start recovers partial segments. State and metrics: \
            STORAGE/recorder.status (JSON) and STORAGE/metrics.prom (Prometheus text format). \
            The recorder serves its consoles and commands on STORAGE/recorder.sock (the peer's Unix \
            user from the kernel) and, with --listen, on TCP with TLS 1.3 only: a certificate from \
            --tls-certificate and --tls-key, or a self-signed one made at the first start in \
            STORAGE/tls, whose SHA-256 fingerprint is printed for clients to pin. The protocol: \
            docs/protocol.yaml.
            """
    )

    @OptionGroup var storageOptions: StorageOptions

    @Option(help: "Only cameras whose id matches this glob (default: all).")
    var cameras: String?

    @Option(help: "Segment length in seconds (cut at the first keyframe after it).")
    var segmentSeconds: Double = 60

    @Option(help: "Stop after this many seconds (benchmarks, tests).")
    var duration: Double?

    @Option(help: "Seconds between retention passes.")
    var retentionEvery: Double = 10

    @Option(help: "Seconds between online backups of the catalog (also made when holds change; 0: never).")
    var backupEvery: Double = 600

    @Option(help: ArgumentHelp("Also serve consoles on this address, over TLS 1.3 (0.0.0.0:7443, [::]:7443, 127.0.0.1:0).", valueName: "host:port"))
    var listen: String?

    @Option(help: ArgumentHelp("The TLS certificate chain (PEM) for --listen (default: a self-signed one in STORAGE/tls).", valueName: "file"))
    var tlsCertificate: String?

    @Option(help: ArgumentHelp("The most the recordings may take: a size (800G, 1.5T) or a share of the disk (85%); over the site's storage_quota.", valueName: "size"))
    var storageQuota: String?

    @Option(help: ArgumentHelp("The TLS private key (PEM) of --tls-certificate.", valueName: "file"))
    var tlsKey: String?

    /// --listen split into host and port.
    var listenAddress: (host: String, port: Int)? {
        guard let listen else { return nil }
        if listen.hasPrefix("["), let close = listen.firstIndex(of: "]"), listen[listen.index(after: close)...].hasPrefix(":"),
            let port = Int(listen[listen.index(close, offsetBy: 2)...]), (0...65535).contains(port)
        {
            return (String(listen[listen.index(after: listen.startIndex)..<close]), port)
        }
        let parts = listen.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, let port = Int(parts[1]), (0...65535).contains(port) else { return nil }
        return (String(parts[0]), port)
    }

    func validate() throws {
        if listen != nil && listenAddress == nil { throw ValidationError("--listen is HOST:PORT ([IPv6]:PORT), the port 0 to 65535") }
        if (tlsCertificate == nil) != (tlsKey == nil) { throw ValidationError("--tls-certificate and --tls-key go together") }
        if let storageQuota, StorageQuota.parse(storageQuota) == nil {
            throw ValidationError("--storage-quota is a size (800G, 1.5T, bytes) or a share of the disk (85%), not `\(storageQuota)`")
        }
        if tlsCertificate != nil && listen == nil { throw ValidationError("--tls-certificate is for --listen") }
        if !(2...600).contains(segmentSeconds) { throw ValidationError("--segment-seconds is 2 to 600") }
        if backupEvery < 0 || retentionEvery < 0 { throw ValidationError("--backup-every and --retention-every are 0 or more seconds") }
    }

    func run() throws {
        LogSetup.toStandardError(level: storageOptions.siteOptions.level)
        var inventory = try SiteLocator.load(storageOptions.siteOptions.site)
        if let quota = storageQuota.flatMap(StorageQuota.parse) { inventory = inventory.with(storageQuota: quota) }
        let ids = inventory.cameras.map(\.id).filter { cameras == nil || Glob.matches(cameras!, $0) }
        guard !ids.isEmpty else {
            printError("vigie record: no camera matches `\(cameras ?? "")`")
            throw ExitCode(64)
        }
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        let root = storageOptions.root(inventory)
        let (core, _) = SiteSources.core(inventory)
        let stop = SignalFlag.install()
        let started = MonotonicClock.seconds()
        var totals = (segments: 0, bytes: Int64(0), dropped: 0)
        var knownDamage: String? = nil
        // A catalog found damaged while recording: this recorder stops, the next one rebuilds it.
        while true {
            let store: RecordingStore
            let rebuild: CatalogRebuild?
            do {
                (store, rebuild) = try RecordingStore.openForRecording(root: root, who: unixUser, knownDamage: knownDamage)
            } catch {
                core.shutdown()
                throw StorageOptions.exit(error, command: "vigie record")
            }
            if let rebuild { printError("vigie record: CATALOG DAMAGED, recording goes on: \(rebuild)") }
            let recorder = Recorder(core: core, store: store, segmentSeconds: segmentSeconds, who: unixUser, rebuild: rebuild)
            let report: RecoveryReport
            do {
                report = try recorder.start(cameraIDs: ids, retentionEvery: retentionEvery, backupEvery: backupEvery)
            } catch {
                core.shutdown()
                throw StorageOptions.exit(error, command: "vigie record")
            }
            if !report.isEmpty { printError("vigie record: recovered after an unclean stop: \(report)") }
            let after = rebuild == nil ? "" : String(format: " (the catalog set aside and restored or made anew: recording started %.2f s after the command)", MonotonicClock.seconds() - started)
            printError("vigie record: recording \(ids.count) camera(s) into \(store.root.path)\(after)")
            let metricsPath = store.root.appendingPathComponent("metrics.prom").path
            let server = RecorderServer(api: ServerAPI(store: store, inventory: inventory, core: core, metrics: { registry.emitToString() }))
            do {
                try serve(server, store: store, inventory: inventory)
            } catch {
                server.shutdown()
                recorder.stop()
                core.shutdown()
                printError("vigie record: cannot serve consoles: \(error)")
                throw ExitCode(error is ValidationError ? 64 : 69)
            }
            while !stop.isSet && !recorder.catalogDamaged {
                if let duration, MonotonicClock.seconds() - started >= duration { break }
                recorder.writeStateFile(registry.emitToString(), to: metricsPath)
                stop.wait(seconds: 2)
            }
            knownDamage = recorder.catalogDamage
            let damaged = knownDamage != nil
            server.shutdown()
            recorder.stop()
            recorder.writeStateFile(registry.emitToString(), to: metricsPath)
            for status in recorder.statuses() {
                totals.segments += status.segmentsWritten
                totals.bytes += status.bytesWritten
                totals.dropped += status.packetsDropped
            }
            guard damaged, !stop.isSet else { break }
            printError("vigie record: the catalog was found damaged while recording: restarting to set it aside and rebuild it")
        }
        core.shutdown()
        unlink(root.appendingPathComponent("recorder.sock").path)
        printError("vigie record: stopped; \(totals.segments) segments, \(totals.bytes) bytes, \(totals.dropped) packets dropped")
    }

    /// The Unix socket in the storage folder, and TLS on --listen.
    private func serve(_ server: RecorderServer, store: RecordingStore, inventory: CameraInventory) throws {
        try Record.serve(server, store: store, inventory: inventory, listen: listenAddress, certificate: tlsCertificate, key: tlsKey, command: "vigie record")
    }

    static func serve(
        _ server: RecorderServer, store: RecordingStore, inventory: CameraInventory, listen: (host: String, port: Int)?, certificate: String?, key: String?,
        command: String
    ) throws {
        let socket = store.root.appendingPathComponent("recorder.sock").path
        guard socket.utf8.count < 108 else {
            throw ValidationError("the storage folder's path is too long for its socket \(socket) (at most 107 bytes)")
        }
        try server.listen(unixSocket: socket)
        printError("\(command): serving local consoles and commands on \(socket)")
        guard let (host, port) = listen else { return }
        let identity: TLSIdentity
        if let certificate, let key {
            identity = try TLSIdentity(certificatePath: certificate, keyPath: key)
        } else {
            identity = try TLSIdentity.selfSigned(in: store.root, siteName: inventory.site.name, hosts: [host])
            if identity.created { printError("\(command): made a self-signed TLS certificate, \(identity.certificatePath)") }
        }
        let bound = try server.listen(host: host, port: port, tls: identity)
        printError("\(command): serving consoles on \(host):\(bound) over TLS 1.3; certificate \(identity.fingerprint) (clients: --fingerprint \(identity.fingerprint))")
    }
}
