public import Crypto
public import Foundation
public import RecorderCore
import Synchronization

/// Makes an export for a requisition: per camera its MP4 files (`CameraExport`), then the
/// signed manifest (JSON and text), the certificate, `SHA256SUMS` and a README, in a folder
/// that did not exist or was empty. Nothing is left half-written: on failure, what was
/// written is removed.
public enum EvidenceExporter {
    public struct Request: Sendable {
        public var requisition: Requisition
        public var cameras: [Camera]
        public var from: Date
        public var to: Date
        public var technician: String
        public var recipient: String
        public var medium: String
        public init(requisition: Requisition, cameras: [Camera], from: Date, to: Date, technician: String, recipient: String, medium: String) {
            self.requisition = requisition
            self.cameras = cameras
            self.from = from
            self.to = to
            self.technician = technician
            self.recipient = recipient
            self.medium = medium
        }
    }

    public static func export(
        _ request: Request, store: RecordingStore, site: Site, identity: EvidenceIdentity, auditHead: ExportManifest.Head, into directory: URL,
        cameraDone: (String) -> Void = { _ in }, stop: @escaping @Sendable () -> Bool = { false }
    ) throws -> ExportManifest {
        let fileManager = FileManager.default
        var isFolder: ObjCBool = false
        if fileManager.fileExists(atPath: directory.path, isDirectory: &isFolder) {
            guard isFolder.boolValue else { throw EvidenceError("\(directory.path) is a file, not a folder") }
            guard (try? fileManager.contentsOfDirectory(atPath: directory.path))?.isEmpty == true else {
                throw EvidenceError("\(directory.path) is not empty: an export goes into a new or empty folder")
            }
        } else {
            do {
                try fileManager.createDirectory(at: directory, withIntermediateDirectories: true)
            } catch {
                throw EvidenceError("cannot make the folder \(directory.path): \(error.localizedDescription)")
            }
        }
        var written: [URL] = []
        do {
            let requisition = request.requisition
            let purpose = "requisition \(requisition.number), \(requisition.basis.summary), \(requisition.authority); exported by \(request.technician) for \(request.recipient)"
            // The cameras in parallel, one a core (each is one thread of demuxing, muxing and
            // hashing); the results in the order asked.
            let results = Mutex<[Int: Result<([ExportedFile], [ExportGap]), any Error>]>([:])
            let failed = Atomic<Bool>(false)
            let done = Mutex<[String]>([])
            let workers = max(1, min(request.cameras.count, ProcessInfo.processInfo.activeProcessorCount))
            let next = Atomic<Int>(0)
            let group = DispatchGroup()
            for _ in 0..<workers {
                group.enter()
                let thread = Thread {
                    defer { group.leave() }
                    while true {
                        let index = next.add(1, ordering: .relaxed).oldValue
                        guard index < request.cameras.count, !failed.load(ordering: .relaxed) else { return }
                        let camera = request.cameras[index]
                        let export = CameraExport(
                            store: store, camera: camera, timeZone: site.timeZone, identity: identity, unit: ("Vigie recorder, \(site.name)", ""),
                            operatorName: request.technician, purpose: purpose)
                        do {
                            let made = try export.run(from: request.from, to: request.to, into: directory, stop: { stop() || failed.load(ordering: .relaxed) })
                            results.withLock { $0[index] = .success(made) }
                            done.withLock { $0.append(camera.id) }
                        } catch {
                            failed.store(true, ordering: .relaxed)
                            results.withLock { $0[index] = .failure(error) }
                        }
                    }
                }
                thread.name = "export"
                thread.start()
            }
            var reported = 0
            while group.wait(timeout: .now() + 0.1) == .timedOut {
                for camera in done.withLock({ Array($0.dropFirst(reported)) }) {
                    cameraDone(camera)
                    reported += 1
                }
            }
            for camera in done.withLock({ Array($0.dropFirst(reported)) }) { cameraDone(camera) }
            if stop() { throw EvidenceError("the export was stopped (the recorder is stopping)") }
            var files: [ExportedFile] = [], gaps: [ExportManifest.Gap] = [], none: [String] = []
            let collected = results.withLock { $0 }
            for (index, camera) in request.cameras.enumerated() {
                switch collected[index] {
                case .failure(let error): throw error
                case .none: throw EvidenceError("the export of \(camera.id) did not finish")
                case .success(let (made, holes)):
                    written += made.map { directory.appendingPathComponent($0.name) }
                    if made.isEmpty { none.append(camera.id) }
                    files += made
                    gaps += holes.map { ExportManifest.Gap(camera: camera.id, from: $0.from, to: $0.to, reason: $0.reason) }
                }
            }
            let manifest = ExportManifest(
                site: site.name, timeZone: site.timeZone.identifier,
                requisition: .init(
                    number: requisition.number, authority: requisition.authority, basis: requisition.basis.rawValue, received: requisition.received,
                    deadline: requisition.deadline),
                technician: request.technician, recipient: request.recipient, medium: request.medium, exportedAt: Date(), from: request.from, to: request.to,
                cameras: request.cameras.map(\.id),
                signer: .init(unit: "Vigie recorder, \(site.name)", certificateSHA256: identity.fingerprint, certificateSubject: identity.subject),
                auditHead: auditHead, files: files, gaps: gaps, noFootage: none)
            func write(_ name: String, _ data: Data) throws {
                let url = directory.appendingPathComponent(name)
                guard fileManager.createFile(atPath: url.path, contents: data) else { throw EvidenceError("cannot write \(url.path)") }
                written.append(url)
            }
            // The text is made from the JSON as it will be read back (times as written), as the verifier makes it.
            let json = try manifest.json(), text = Data(try ExportManifest.load(json).text().utf8)
            try write(ExportManifest.jsonName, json)
            try write(ExportManifest.jsonName + ".sig", try identity.sign(SHA256.hash(data: json)))
            try write(ExportManifest.textName, text)
            try write(ExportManifest.textName + ".sig", try identity.sign(SHA256.hash(data: text)))
            try write(ExportManifest.certificateName, Data(identity.certificatePEM.utf8))
            var sums = files.map { "\($0.sha256)  \($0.name)" }
            for name in [ExportManifest.jsonName, ExportManifest.textName, ExportManifest.certificateName] {
                let data = try Data(contentsOf: directory.appendingPathComponent(name))
                sums.append("\(Hex.of(SHA256.hash(data: data)))  \(name)")
            }
            try write(ExportManifest.sumsName, Data((sums.joined(separator: "\n") + "\n").utf8))
            try write(ExportManifest.readmeName, Data(ExportReadme.text(manifest).utf8))
            return manifest
        } catch {
            for url in written { try? fileManager.removeItem(at: url) }
            // Files of a camera cut in the middle are not in `written` yet.
            for name in (try? fileManager.contentsOfDirectory(atPath: directory.path)) ?? [] where name.hasSuffix(".mp4") {
                try? fileManager.removeItem(at: directory.appendingPathComponent(name))
            }
            throw error
        }
    }
}
