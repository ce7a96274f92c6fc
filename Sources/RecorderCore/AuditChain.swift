import Crypto
import Foundation
import Logging

/// One entry of the audit log as stored: the event, its place in the chain, the hash of
/// the entry before it and its own hash (over its fields and that previous hash), so any
/// edit, insertion or deletion breaks the chain from there on.
public struct AuditEntry: Sendable, Hashable {
    public let sequence: Int64
    public let event: OperatorEvent
    public let previousHash: String
    public let hash: String

    /// The hash of the chain's start (no entry before the first).
    public static let genesis = String(repeating: "0", count: 64)

    /// SHA-256 (hex) of the entry's canonical form: every field, length-prefixed, in a fixed order.
    public static func hash(sequence: Int64, event: OperatorEvent, previousHash: String) -> String {
        var text = ""
        func field(_ value: String?) {
            let value = value ?? "\u{0}"
            text += "\(value.utf8.count):\(value);"
        }
        field(String(sequence))
        field(String(event.when.micros))
        field(event.who)
        field(event.action.name)
        field(event.cameraID)
        field(event.from.map { String($0.micros) })
        field(event.to.map { String($0.micros) })
        field(event.reason)
        field(event.detail)
        field(previousHash)
        return Hex.string(SHA256.hash(data: Data(text.utf8)))
    }

    public var isSelfConsistent: Bool { AuditEntry.hash(sequence: sequence, event: event, previousHash: previousHash) == hash }
}

/// What `verify` found wrong in an audit chain.
public struct AuditProblem: Sendable, Hashable, CustomStringConvertible {
    public let sequence: Int64
    public let message: String
    public var description: String { "entry \(sequence): \(message)" }
}

public enum AuditVerifier {
    /// Walks the chain: each entry's hash must match its fields, link to the one before,
    /// and sequences must follow each other; the last must match the head kept outside
    /// the catalog (so removing the last entries is seen too).
    public static func verify(_ entries: [AuditEntry], head: (sequence: Int64, hash: String)?) -> [AuditProblem] {
        var problems: [AuditProblem] = []
        var previous = AuditEntry.genesis
        var expected: Int64 = 1
        for entry in entries {
            if entry.sequence != expected {
                problems.append(
                    AuditProblem(
                        sequence: entry.sequence,
                        message: entry.sequence > expected
                            ? "entries \(expected) to \(entry.sequence - 1) are missing" : "sequence goes back (expected \(expected))"))
            }
            if entry.previousHash != previous {
                problems.append(AuditProblem(sequence: entry.sequence, message: "does not link to the entry before it (inserted, removed or edited)"))
            }
            if !entry.isSelfConsistent {
                problems.append(AuditProblem(sequence: entry.sequence, message: "its content was changed after it was written"))
            }
            previous = entry.hash
            expected = entry.sequence + 1
        }
        if let head {
            if let last = entries.last {
                if last.sequence < head.sequence {
                    problems.append(
                        AuditProblem(sequence: last.sequence + 1, message: "entries \(last.sequence + 1) to \(head.sequence) were removed from the end"))
                } else if last.sequence == head.sequence && last.hash != head.hash {
                    problems.append(AuditProblem(sequence: last.sequence, message: "does not match the head kept outside the catalog"))
                }
            } else if head.sequence > 0 {
                problems.append(AuditProblem(sequence: 1, message: "the log is empty but \(head.sequence) entries were written"))
            }
        }
        return problems
    }
}

/// The audit sink of the recorder core: appends to the catalog's chain and keeps the head
/// (last sequence and hash) in a file beside it. A failure is logged, never silent.
public final class AuditLog: AuditSink {
    public let catalog: any Catalog
    public let headPath: String
    private let logger = Logger(label: "vigie.audit")

    public init(catalog: any Catalog, headPath: String) {
        self.catalog = catalog
        self.headPath = headPath
    }

    public func record(_ event: OperatorEvent) {
        do {
            _ = try append(event)
        } catch {
            logger.error("audit entry not written (\(event.action)): \(error)")
        }
    }

    @discardableResult
    public func append(_ event: OperatorEvent) throws(CatalogError) -> AuditEntry {
        let entry = try catalog.appendAudit(event)
        AuditLog.writeHead(path: headPath, sequence: entry.sequence, hash: entry.hash)
        return entry
    }

    /// The head file: "SEQUENCE HASH", rewritten in place after each entry (a full disk does
    /// not stop it) under a lock, keeping the highest sequence when processes race.
    static func writeHead(path: String, sequence: Int64, hash: String) {
        SmallFile.write("\(sequence) \(hash)\n", to: path, capacity: 128) { current in
            guard let head = parseHead(current) else { return true }
            return head.sequence <= sequence
        }
    }

    /// Sets the head whatever it said before: a rebuilt catalog's chain starts again, and
    /// the entry that starts it names the head that was lost.
    func resetHead(sequence: Int64, hash: String) {
        SmallFile.write("\(sequence) \(hash)\n", to: headPath, capacity: 128)
    }

    public static func readHead(path: String) -> (sequence: Int64, hash: String)? {
        SmallFile.read(path).flatMap(parseHead)
    }

    static func parseHead(_ text: String) -> (sequence: Int64, hash: String)? {
        let parts = text.split(whereSeparator: { $0 == " " || $0 == "\n" })
        guard parts.count == 2, let sequence = Int64(parts[0]) else { return nil }
        return (sequence, String(parts[1]))
    }

    public func verify() throws(CatalogError) -> [AuditProblem] {
        AuditVerifier.verify(try catalog.auditEntries(camera: nil, since: nil, who: nil), head: AuditLog.readHead(path: headPath))
    }
}
