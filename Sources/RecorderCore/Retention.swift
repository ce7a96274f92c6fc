public import Foundation

/// A storage quota: a number of bytes, or a share of the disk the storage is on.
public enum StorageQuota: Sendable, Hashable, CustomStringConvertible {
    case bytes(Int64)
    case percentOfDisk(Double)

    /// "800G", "1.5T", "500000000", "85%".
    public static func parse(_ text: String) -> StorageQuota? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed.hasSuffix("%") {
            guard let value = Double(trimmed.dropLast()), value > 0, value <= 100 else { return nil }
            return .percentOfDisk(value)
        }
        let units: [Character: Double] = ["K": 1e3, "M": 1e6, "G": 1e9, "T": 1e12]
        var digits = Substring(trimmed), scale = 1.0
        if let last = digits.last?.uppercased().first, let unit = units[last] {
            scale = unit
            digits = digits.dropLast()
        }
        guard let value = Double(digits), value > 0, value * scale < 1e18 else { return nil }
        return .bytes(Int64(value * scale))
    }

    /// The quota in bytes for a disk of `diskBytes`.
    public func limit(diskBytes: Int64) -> Int64 {
        switch self {
        case .bytes(let bytes): return bytes
        case .percentOfDisk(let percent): return Int64(Double(diskBytes) * percent / 100)
        }
    }

    public var description: String {
        switch self {
        case .bytes(let bytes): return "\(bytes) bytes"
        case .percentOfDisk(let percent): return "\(percent)% of the disk"
        }
    }
}

/// What a retention pass destroys and what it must say.
public struct RetentionPlan: Sendable {
    public struct Item: Sendable, Hashable {
        public let segment: SegmentRecord
        public let reason: String
    }
    public var destroy: [Item] = []
    /// Cameras whose footage goes before its retention because of the quota: the
    /// retention is no longer met (status and log say so).
    public var retentionNotMet: [String: Date] = [:]
    /// Bytes that would stay over the quota because what is left is held or being written.
    public var stillOverQuota: Int64 = 0
}

/// Decides what to destroy: footage older than its camera's retention, oldest first, and,
/// when the storage is over its quota, the oldest footage that is not held. Held footage is
/// never in the plan. Pure: the caller gives the segments, holds, clock and sizes.
public enum RetentionPlanner {
    /// - Parameters:
    ///   - oldestFirst: closed segments of the site, oldest first (at least those older than
    ///     the longest retention, and enough to free the quota).
    ///   - used: bytes the site's footage takes; `quota`: its ceiling in bytes, if any.
    public static func plan(
        oldestFirst: [SegmentRecord], holds: [Hold], now: Date, retentionDays: (String) -> Int, used: Int64, quota: Int64?
    ) -> RetentionPlan {
        var plan = RetentionPlan()
        var chosen = Set<Int64>()
        var remaining = used
        func held(_ segment: SegmentRecord) -> Bool {
            holds.contains { $0.covers(camera: segment.camera, from: segment.start, to: segment.end) }
        }
        for segment in oldestFirst where segment.state != .open {
            let days = retentionDays(segment.camera)
            // Footage expires when its end is older than the retention.
            guard segment.end < now.addingTimeInterval(-Double(days) * 86_400) else { continue }
            if held(segment) { continue }
            plan.destroy.append(.init(segment: segment, reason: "retention \(days) days"))
            chosen.insert(segment.id)
            remaining -= segment.bytes
        }
        if let quota, remaining > quota {
            for segment in oldestFirst where segment.state != .open && !chosen.contains(segment.id) {
                if remaining <= quota { break }
                if held(segment) { continue }
                plan.destroy.append(.init(segment: segment, reason: "storage quota"))
                chosen.insert(segment.id)
                remaining -= segment.bytes
                let kept = now.addingTimeInterval(-Double(retentionDays(segment.camera)) * 86_400)
                if segment.end > kept { plan.retentionNotMet[segment.camera] = segment.end }
            }
            plan.stillOverQuota = max(0, remaining - quota)
        }
        return plan
    }
}

/// How the recorder shares a disk between footage, the catalog and free space, from the
/// disk's size and what the cameras write. Pure: the recorder measures, this decides.
///
/// The floor is the free space kept at all times: what the cameras write in a few seconds
/// (the time the storage guard takes to notice and destroy), at least 1 MB, and on large
/// disks 1 % of them up to 2 GB (file systems slow down when nearly full), plus room for a
/// backup of the catalog; never more than a quarter of the disk, so a small disk still records. Under the floor the oldest unheld
/// footage goes until the target is free again; when only held footage is left, recording
/// pauses, and resumes once `resumeBytes` are free.
public struct StorageBudget: Sendable, Hashable, CustomStringConvertible {
    public let diskBytes: Int64
    public let floorBytes: Int64
    public let targetBytes: Int64
    public let resumeBytes: Int64
    /// Free pages kept inside the catalog's file, and its write-ahead log's kept size.
    public let catalogReserveBytes: Int64
    public let catalogLogBytes: Int64
    /// Segments are cut at the first keyframe past this size, so that on a small disk
    /// closed (destroyable) footage exists while every camera writes.
    public let segmentByteLimit: Int64

    /// Seconds of writing the floor absorbs, and the extra seconds a pass frees.
    public static let floorSeconds = 4.0
    public static let headroomSeconds = 6.0

    /// `catalogBytes`: the catalog's size; the floor also keeps room for its backup copy, so
    /// that a disk the guard keeps full still gets its catalog backed up.
    public static func plan(diskBytes: Int64, writeBytesPerSecond: Double, cameras: Int, catalogBytes: Int64 = 0) -> StorageBudget {
        let disk = max(diskBytes, 1)
        let rate = max(writeBytesPerSecond, 0)
        let megabyte: Int64 = 1_000_000
        let catalogReserve = min(max(disk / 256, 256 << 10), 16 << 20)
        let catalogLog = min(max(disk / 64, 512 << 10), 4 << 20)
        var floor = max(Int64(rate * floorSeconds), min(disk / 100, 2_000 * megabyte), megabyte) + catalogBytes + catalogBytes / 5
        floor = min(floor, disk / 4)
        let headroom = min(Int64(rate * headroomSeconds), disk / 10)
        let target = floor + max(headroom, megabyte / 2)
        let resume = floor + (target - floor) / 2
        let perCamera = max(disk - floor - catalogReserve - catalogLog, 0) / Int64(max(cameras, 1))
        let limit = max(perCamera / 3, 256 << 10)
        return StorageBudget(
            diskBytes: disk, floorBytes: floor, targetBytes: target, resumeBytes: resume, catalogReserveBytes: catalogReserve,
            catalogLogBytes: catalogLog, segmentByteLimit: limit)
    }

    public var description: String {
        "disk \(diskBytes) B: keep \(floorBytes) B free (free up to \(targetBytes) B, resume at \(resumeBytes) B), catalog reserve \(catalogReserveBytes) + \(catalogLogBytes) B, segments cut past \(segmentByteLimit) B"
    }
}
