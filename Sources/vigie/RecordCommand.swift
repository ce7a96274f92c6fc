import ArgumentParser
import Foundation
import Logging
import Media
import Metrics
import Prometheus
import RecorderCore

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
            STORAGE/recorder.status (JSON) and STORAGE/metrics.prom (Prometheus text format).
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

    func validate() throws {
        if !(2...600).contains(segmentSeconds) { throw ValidationError("--segment-seconds is 2 to 600") }
        if backupEvery < 0 || retentionEvery < 0 { throw ValidationError("--backup-every and --retention-every are 0 or more seconds") }
    }

    func run() throws {
        LogSetup.toStandardError(level: storageOptions.siteOptions.level)
        let inventory = try SiteLocator.load(storageOptions.siteOptions.site)
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
            while !stop.isSet && !recorder.catalogDamaged {
                if let duration, MonotonicClock.seconds() - started >= duration { break }
                recorder.writeStateFile(registry.emitToString(), to: metricsPath)
                stop.wait(seconds: 2)
            }
            knownDamage = recorder.catalogDamage
            let damaged = knownDamage != nil
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
        printError("vigie record: stopped; \(totals.segments) segments, \(totals.bytes) bytes, \(totals.dropped) packets dropped")
    }
}
