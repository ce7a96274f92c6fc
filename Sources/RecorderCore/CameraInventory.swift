public import Foundation
public import Media
import Yams

/// The site a camera inventory describes.
public struct Site: Sendable, Hashable {
    public let name: String
    /// The zone times are shown in (storage is UTC).
    public let timeZone: TimeZone
    /// Days footage is kept, when the file sets it (the recorder enforces it).
    public let retentionDays: Int?
    /// The longest retention the prefect's authorisation allows (at most 30 days).
    public var authorisedRetentionDays: Int = CameraInventory.maximumRetentionDays
    /// The most the recordings may take on disk, if set.
    public var storageQuota: StorageQuota? = nil
    /// Vidéosurveillance (a live wall, Tours) or vidéoprotection (no live view at all,
    /// recordings only through a requisition, Coutances).
    public var mode: SiteMode = .videosurveillance
    /// Whether recordings may be consulted outside an open requisition, with a typed reason
    /// (marked as such in the audit log). Never in vidéoprotection mode.
    public var consultationOutsideRequisition: OutsideRequisition = .withReason
    /// For a site of simulated cameras (sim://): the length of the simulated footage's
    /// loop, in seconds (a divisor of a day), when it is not the simulator's default.
    public var simulationLoopSeconds: Int? = nil
    /// Whether the recorder records each camera's sub stream beside its main stream (the
    /// default, for cameras that have one): the wall's tiles are then relayed from the
    /// recorder's own connection, and an analysis decodes the small pictures.
    public var recordSubStreams: Bool = true
}

/// How a site uses its cameras (arrêté of the prefect).
public enum SiteMode: String, Sendable, Hashable, CaseIterable {
    /// The live wall is watched; recordings are consulted for investigations.
    case videosurveillance
    /// Nobody watches live; images are reachable only through an open requisition.
    case videoprotection
}

/// Whether a site allows consulting recordings outside an open requisition.
public enum OutsideRequisition: String, Sendable, Hashable, CaseIterable {
    /// Allowed with a typed reason, marked "outside requisition" in the audit log.
    case withReason = "with-reason"
    /// Refused: recordings only inside an open requisition's cameras and periods.
    case refused
}

/// One camera of the inventory.
public struct Camera: Sendable, Hashable, Identifiable {
    /// Short stable identifier (`plumereau-nord`): what operators type and logs show.
    public let id: String
    /// 1-based position in the inventory: operators also call cameras by number.
    public let number: Int
    public let name: String
    /// Street or place the camera watches.
    public let location: String
    /// Full-resolution stream: recording and the full pane. May hold credentials: show
    /// `displayMainURL`, never this.
    public let mainURL: String
    /// Low-resolution stream for wall tiles, when the camera has one.
    public let subURL: String?
    /// Cameras reachable from this one by street, to follow someone from camera to camera.
    public let neighbours: [String]
    public let notes: String?
    public let transport: RTSPTransport
    /// This camera's retention when it differs from the site's (within the authorisation).
    public var retentionDays: Int? = nil

    /// A camera removed from the site file whose footage is still kept (held, exported).
    public static func former(id: String) -> Camera {
        Camera(id: id, number: 0, name: id, location: "(no longer in the site file)", mainURL: "", subURL: nil, neighbours: [], notes: nil, transport: .tcp)
    }

    public var displayMainURL: String { Redaction.redactAddress(mainURL) }
    public var displaySubURL: String? { subURL.map(Redaction.redactAddress) }
}

/// A site's cameras, read from a YAML file and checked as a whole.
///
/// Checks report `file:line:column` and what is wrong: unknown keys, missing values,
/// duplicate ids, malformed addresses, neighbours that do not exist. All problems are
/// reported at once.
public struct CameraInventory: Sendable {
    public let file: String
    public let site: Site
    public let cameras: [Camera]
    /// Warnings found while reading (the file is usable).
    public let warnings: [Diagnostic]

    static let topKeys = ["site", "cameras"]
    static let siteKeys = ["name", "timezone", "retention_days", "authorised_retention_days", "storage_quota", "mode", "outside_requisition", "simulation_loop_seconds", "record_sub_streams"]
    static let cameraKeys = ["id", "name", "location", "main", "sub", "neighbours", "notes", "transport", "retention_days"]
    /// The most neighbours a camera lists (streets leaving its view).
    public static let maximumNeighbours = 32
    /// The most cameras one site file describes (a large city runs several recorders).
    public static let maximumCameras = 10_000
    /// The legal ceiling: recordings are kept at most one month.
    public static let maximumRetentionDays = 30

    /// The same inventory with another storage quota (a command's option over the file's).
    public func with(storageQuota: StorageQuota) -> CameraInventory {
        var site = site
        site.storageQuota = storageQuota
        return CameraInventory(file: file, site: site, cameras: cameras, warnings: warnings)
    }

    /// A retention in days: a whole number from 1 to the authorisation's ceiling.
    static func checkRetention(_ value: String, node: Node, ceiling: Int, checker: inout YAMLChecker) -> Int? {
        guard let days = Int(value), days >= 1 else {
            checker.error(node, "retention_days must be a whole number of days, at least 1")
            return nil
        }
        guard days <= ceiling else {
            let law = ceiling == maximumRetentionDays ? " (the law allows at most one month)" : ""
            checker.error(node, "retention_days \(days) is longer than the authorisation allows: at most \(ceiling) days\(law)")
            return nil
        }
        return days
    }

    /// Days a camera's footage is kept: its own retention, else the site's, else the
    /// authorisation's ceiling.
    public func retentionDays(camera id: String) -> Int {
        camera(id)?.retentionDays ?? site.retentionDays ?? site.authorisedRetentionDays
    }

    /// Reads and checks the file at `path`.
    public static func load(path: String) throws(ConfigurationError) -> CameraInventory {
        try parse(yaml: try YAMLDocument.read(path: path), file: path)
    }

    /// Checks YAML text; `file` names it in diagnostics.
    public static func parse(yaml text: String, file: String) throws(ConfigurationError) -> CameraInventory {
        let document = try YAMLDocument(text: text, file: file)
        var checker = YAMLChecker(document: document)
        guard let root = document.root else {
            throw ConfigurationError([Diagnostic(.error, SourceLocation(file: file, line: 1, column: 1), "the file is empty")])
        }
        let top = checker.entries(of: root, allowed: topKeys, what: "the inventory")

        var site = Site(name: "Vigie", timeZone: TimeZone(identifier: "Europe/Paris")!, retentionDays: nil)
        var authorisedCeiling = maximumRetentionDays
        if let siteEntry = top["site"] {
            let entries = checker.entries(of: siteEntry.value, allowed: siteKeys, what: "site")
            let name = checker.text(entries, "name", in: "site", required: true)?.0 ?? site.name
            var zone = site.timeZone
            if let (identifier, node) = checker.text(entries, "timezone", in: "site", required: true) {
                if let found = TimeZone(identifier: identifier) { zone = found } else {
                    checker.error(node, "unknown time zone `\(identifier)` (use an IANA name such as Europe/Paris)")
                }
            }
            var ceiling = maximumRetentionDays
            if let (value, node) = checker.text(entries, "authorised_retention_days", in: "site", required: true) {
                if let days = Int(value), days >= 1, days <= maximumRetentionDays {
                    ceiling = days
                } else {
                    checker.error(node, "authorised_retention_days must be a whole number of days from 1 to \(maximumRetentionDays) (the law allows at most one month)")
                }
            }
            authorisedCeiling = ceiling
            var retention: Int? = nil
            if let (value, node) = checker.text(entries, "retention_days", in: "site", required: true) {
                retention = checkRetention(value, node: node, ceiling: ceiling, checker: &checker)
            }
            site = Site(name: name, timeZone: zone, retentionDays: retention)
            site.authorisedRetentionDays = ceiling
            if let (value, node) = checker.text(entries, "storage_quota", in: "site", required: true) {
                if let quota = StorageQuota.parse(value) { site.storageQuota = quota } else {
                    checker.error(node, "storage_quota is a size (800G, 1.5T, bytes) or a share of the disk (85%), not `\(value)`")
                }
            }
            if let (value, node) = checker.text(entries, "mode", in: "site", required: true) {
                if let mode = SiteMode(rawValue: value) { site.mode = mode } else {
                    checker.error(node, "mode is `videosurveillance` (a live wall) or `videoprotection` (no live view, recordings on requisition only), not `\(value)`")
                }
            }
            if site.mode == .videoprotection { site.consultationOutsideRequisition = .refused }
            if let (value, node) = checker.text(entries, "simulation_loop_seconds", in: "site", required: true) {
                if let seconds = Int(value), seconds >= 10, seconds <= 3600, 86_400 % seconds == 0 {
                    site.simulationLoopSeconds = seconds
                } else {
                    checker.error(node, "simulation_loop_seconds is a whole number of seconds from 10 to 3600 that divides a day (60, 300, 600...), not `\(value)`")
                }
            }
            if let (value, node) = checker.text(entries, "record_sub_streams", in: "site", required: true) {
                switch value {
                case "true", "yes": site.recordSubStreams = true
                case "false", "no": site.recordSubStreams = false
                default: checker.error(node, "record_sub_streams is `true` (the default: sub streams recorded beside the main ones) or `false`, not `\(value)`")
                }
            }
            if let (value, node) = checker.text(entries, "outside_requisition", in: "site", required: true) {
                if let rule = OutsideRequisition(rawValue: value) {
                    if rule == .withReason && site.mode == .videoprotection {
                        checker.error(node, "outside_requisition: with-reason is not possible in videoprotection mode (recordings only through an open requisition)")
                    } else {
                        site.consultationOutsideRequisition = rule
                    }
                } else {
                    checker.error(node, "outside_requisition is `with-reason` or `refused`, not `\(value)`")
                }
            }
        } else {
            checker.error(root, "missing `site:` block (name and time zone of the centre)")
        }

        var cameras: [Camera] = []
        var idNodes: [String: Node] = [:]
        var neighbourReferences: [(camera: String, neighbour: String, node: Node)] = []
        if let camerasEntry = top["cameras"] {
            if let sequence = camerasEntry.value.sequence {
                if sequence.isEmpty { checker.error(camerasEntry.value, "the camera list is empty") }
                for (index, item) in sequence.enumerated() {
                    if index == maximumCameras {
                        checker.error(item, "more than \(maximumCameras) cameras: one recorder's site file holds at most \(maximumCameras)")
                        break
                    }
                    guard item.mapping != nil else {
                        checker.error(item, "each camera is a block of `key: value` lines starting with `- id:`")
                        continue
                    }
                    let entries = checker.entries(of: item, allowed: cameraKeys, what: "a camera")
                    guard let (id, idNode) = checker.text(entries, "id", in: "a camera", required: true) else {
                        if entries["id"] == nil { checker.error(item, "camera without `id`") }
                        continue
                    }
                    let what = "camera \(id)"
                    var valid = true
                    if !isValidID(id) {
                        checker.error(idNode, "camera id `\(id)` must be lowercase letters, digits, - or _ (at most 64), starting with a letter or digit")
                        valid = false
                    } else if id.allSatisfy(\.isNumber) {
                        checker.error(idNode, "camera id `\(id)` has digits only: operators call cameras by number, so `\(id)` would mean camera number \(id); add a letter (cam-\(id))")
                        valid = false
                    }
                    if let first = idNodes[id] {
                        checker.error(idNode, "duplicate camera id `\(id)` (first at line \(document.location(of: first).line))")
                        valid = false
                    } else {
                        idNodes[id] = idNode
                    }
                    let name = checker.text(entries, "name", in: what, required: true)
                    let location = checker.text(entries, "location", in: what, required: true)
                    if entries["name"] == nil { checker.error(item, "\(what) has no `name`"); valid = false }
                    if entries["location"] == nil { checker.error(item, "\(what) has no `location`"); valid = false }
                    let main = checker.text(entries, "main", in: what, required: true, maximumLength: 2048)
                    if entries["main"] == nil { checker.error(item, "\(what) has no `main` stream address"); valid = false }
                    if let (url, node) = main, let problem = CameraURL.problem(with: url) {
                        checker.error(node, "main stream: \(problem)")
                        valid = false
                    }
                    let sub = checker.text(entries, "sub", in: what, required: true, maximumLength: 2048)
                    if let (url, node) = sub, let problem = CameraURL.problem(with: url) {
                        checker.error(node, "sub stream: \(problem)")
                        valid = false
                    }
                    var transport = RTSPTransport.tcp
                    if let (value, node) = checker.text(entries, "transport", in: what, required: true) {
                        if let parsed = RTSPTransport(rawValue: value.lowercased()) { transport = parsed } else {
                            checker.error(node, "transport must be tcp or udp, not `\(value)`")
                            valid = false
                        }
                    }
                    var neighbours: [String] = []
                    var listedNeighbours = Set<String>()
                    if let entry = entries["neighbours"] {
                        if let list = entry.value.sequence {
                            if list.count > CameraInventory.maximumNeighbours {
                                checker.error(entry.value, "camera \(id) lists \(list.count) neighbours; at most \(CameraInventory.maximumNeighbours)")
                            }
                            for neighbour in list.prefix(CameraInventory.maximumNeighbours) {
                                guard let value = neighbour.scalar?.string, !value.isEmpty else {
                                    checker.error(neighbour, "a neighbour is a camera id")
                                    continue
                                }
                                if value == id {
                                    checker.error(neighbour, "camera \(id) lists itself as a neighbour")
                                } else if listedNeighbours.contains(value) {
                                    checker.warning(neighbour, "neighbour `\(value)` listed twice")
                                } else {
                                    listedNeighbours.insert(value)
                                    neighbours.append(value)
                                    neighbourReferences.append((id, value, neighbour))
                                }
                            }
                        } else if entry.value.scalar?.string.isEmpty == false {
                            checker.error(entry.value, "neighbours is a list: [camera-a, camera-b]")
                        }
                    }
                    let notes = checker.text(entries, "notes", in: what, required: false, maximumLength: 4000, allowLineBreaks: true)?.0
                    var retention: Int? = nil
                    if let (value, node) = checker.text(entries, "retention_days", in: what, required: true) {
                        retention = checkRetention(value, node: node, ceiling: authorisedCeiling, checker: &checker)
                        if retention == nil { valid = false }
                    }
                    guard valid, let name, let location, let main else { continue }
                    var camera = Camera(
                        id: id, number: cameras.count + 1, name: name.0, location: location.0, mainURL: main.0,
                        subURL: sub?.0, neighbours: neighbours, notes: notes?.isEmpty == true ? nil : notes,
                        transport: transport)
                    camera.retentionDays = retention
                    cameras.append(camera)
                }
            } else {
                checker.error(camerasEntry.value, "`cameras:` is a list of cameras, each starting with `- id:`")
            }
        } else {
            checker.error(root, "missing `cameras:` list")
        }

        for reference in neighbourReferences where idNodes[reference.neighbour] == nil {
            checker.error(reference.node, "camera \(reference.camera): neighbour `\(reference.neighbour)` is not a camera of this inventory")
        }
        // One-way links are legal (a one-way street) but usually a slip: say so.
        let listed = Set(neighbourReferences.map { "\($0.camera)>\($0.neighbour)" })
        for reference in neighbourReferences where idNodes[reference.neighbour] != nil && !listed.contains("\(reference.neighbour)>\(reference.camera)") {
            checker.warning(reference.node, "camera \(reference.camera) lists \(reference.neighbour), which does not list it back")
        }
        // A sim:// address must name its own camera: the simulator draws that camera.
        for camera in cameras {
            for url in [camera.mainURL, camera.subURL].compactMap({ $0 }) {
                if let simulated = SimulatedAddress.parse(url), idNodes[simulated.camera] == nil {
                    checker.error(idNodes[camera.id], "camera \(camera.id): \(url) names no camera of this inventory")
                }
            }
        }

        let sorted = checker.diagnostics.sorted {
            ($0.location.line, $0.location.column) < ($1.location.line, $1.location.column)
        }
        if sorted.contains(where: { $0.severity == .error }) { throw ConfigurationError(sorted) }
        return CameraInventory(file: file, site: site, cameras: cameras, warnings: sorted)
    }

    static func isValidID(_ id: String) -> Bool {
        guard (1...64).contains(id.count), let first = id.unicodeScalars.first,
            (first >= "a" && first <= "z") || (first >= "0" && first <= "9")
        else { return false }
        return id.unicodeScalars.allSatisfy { ($0 >= "a" && $0 <= "z") || ($0 >= "0" && $0 <= "9") || $0 == "-" || $0 == "_" }
    }

    /// The camera with this id, or with this number ("12"): ids are never digits only, so
    /// the two cannot be confused.
    public func camera(_ idOrNumber: String) -> Camera? {
        if let camera = cameras.first(where: { $0.id == idOrNumber }) { return camera }
        if let number = Int(idOrNumber), number >= 1, number <= cameras.count { return cameras[number - 1] }
        return nil
    }

    /// Cameras whose id matches a shell-style pattern (`plumereau-*`, `gare-?`).
    public func cameras(matching pattern: String) -> [Camera] {
        cameras.filter { Glob.matches(pattern, $0.id) }
    }
}

/// Shell-style patterns on camera ids: `*` any run, `?` one character.
public enum Glob {
    public static func matches(_ pattern: String, _ text: String) -> Bool {
        let p = Array(pattern), t = Array(text)
        var pi = 0, ti = 0, star = -1, mark = 0
        while ti < t.count {
            if pi < p.count && (p[pi] == "?" || p[pi] == t[ti]) {
                pi += 1
                ti += 1
            } else if pi < p.count && p[pi] == "*" {
                star = pi
                mark = ti
                pi += 1
            } else if star >= 0 {
                pi = star + 1
                mark += 1
                ti = mark
            } else {
                return false
            }
        }
        while pi < p.count && p[pi] == "*" { pi += 1 }
        return pi == p.count
    }
}
