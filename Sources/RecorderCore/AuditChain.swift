public import Crypto
import Foundation
import Logging
import Synchronization

/// One entry of the audit log as stored: the event, its place in the chain, the hash of
/// the entry before it and its own hash (over its fields and that previous hash), so any
/// edit, insertion or deletion breaks the chain from there on.
public struct AuditEntry: Sendable, Hashable {
    public let sequence: Int64
    public let event: OperatorEvent
    public let previousHash: String
    public let hash: String
    /// The id of the recorder's key that signed it, and its Ed25519 signature of the hash
    /// (nil for entries written before the recorder signed).
    public let signer: String?
    public let signature: String?

    public init(sequence: Int64, event: OperatorEvent, previousHash: String, hash: String, signer: String? = nil, signature: String? = nil) {
        self.sequence = sequence
        self.event = event
        self.previousHash = previousHash
        self.hash = hash
        self.signer = signer
        self.signature = signature
    }

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
        // Since schema 5; absent from the entries written before (their hashes unchanged).
        if let requisition = event.requisition { field("requisition=" + requisition) }
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

/// What `audit verify` found: the problems (the chain is broken when there is any) and
/// what it is fair to know besides (an unsigned start written before signing began, the
/// keys that signed, when the head was last signed).
public struct AuditVerification: Sendable {
    public var problems: [AuditProblem] = []
    public var notes: [String] = []
    /// Fingerprints of the keys whose signatures were checked.
    public var signedBy: Set<String> = []
    public var entries = 0
    public var unsignedPrefix = 0
    public var head: AuditHead?
}

public enum AuditVerifier {
    /// Walks the chain: each entry's hash must match its fields, link to the one before,
    /// sequences must follow each other, and every entry from the first signed one on must
    /// carry a valid signature of a known key. The head kept outside the catalog must be
    /// there, signed, and name the chain's last entry (so a cut end, a rewrite of both or
    /// rows appended by hand show). `pinned`: the fingerprint the auditor expects.
    public static func verify(
        _ entries: [AuditEntry], head file: AuditHeadFile, keys: [String: Curve25519.Signing.PublicKey], pinned: String? = nil
    ) -> AuditVerification {
        var result = AuditVerification()
        result.entries = entries.count
        var problems: [AuditProblem] = []
        var previous = AuditEntry.genesis
        var expected: Int64 = 1
        var signing = false
        func checkSigner(_ id: String, at sequence: Int64, what: String) -> Curve25519.Signing.PublicKey? {
            guard let key = keys[id] else {
                problems.append(AuditProblem(sequence: sequence, message: "\(what) is signed by an unknown key \(id) (no keys/audit-\(id).pub)"))
                return nil
            }
            let fingerprint = AuditSigningKey.fingerprint(of: key)
            if let pinned, fingerprint != pinned {
                problems.append(AuditProblem(sequence: sequence, message: "\(what) is signed by \(fingerprint), not by the expected \(pinned)"))
            }
            result.signedBy.insert(fingerprint)
            return key
        }
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
            if let signer = entry.signer, let signature = entry.signature {
                signing = true
                if let key = checkSigner(signer, at: entry.sequence, what: "it"),
                    !AuditSigningKey.isValid(signature, of: AuditSigningKey.entryMessage(entry.hash), by: key)
                {
                    problems.append(AuditProblem(sequence: entry.sequence, message: "its signature is not the recorder's (forged or rewritten)"))
                }
            } else if signing || !keys.isEmpty && entry.sequence == entries.last?.sequence {
                problems.append(AuditProblem(sequence: entry.sequence, message: "is not signed by the recorder (written by another program)"))
            } else {
                result.unsignedPrefix += 1
            }
            previous = entry.hash
            expected = entry.sequence + 1
        }
        if result.unsignedPrefix > 0 && signing {
            result.notes.append("entries 1 to \(result.unsignedPrefix) were written before the recorder signed its audit log: they are chained, not signed")
        }
        switch file {
        case .missing:
            if !entries.isEmpty {
                problems.append(AuditProblem(sequence: entries.last?.sequence ?? 0, message: "the head file audit.head is missing: the end of the log cannot be checked"))
            }
        case .damaged:
            problems.append(AuditProblem(sequence: entries.last?.sequence ?? 0, message: "the head file audit.head is damaged: the end of the log cannot be checked"))
        case .present(let head):
            result.head = head
            if let signer = head.signer {
                if let key = checkSigner(signer, at: head.sequence, what: "the head"), !head.isValid(by: key) {
                    problems.append(AuditProblem(sequence: head.sequence, message: "the head's signature is not the recorder's (the head file was rewritten)"))
                }
            } else if signing || !keys.isEmpty {
                problems.append(AuditProblem(sequence: head.sequence, message: "the head is not signed by the recorder (the head file was rewritten)"))
            }
            if let last = entries.last {
                if last.sequence < head.sequence {
                    problems.append(
                        AuditProblem(sequence: last.sequence + 1, message: "entries \(last.sequence + 1) to \(head.sequence) were removed from the end"))
                } else if let named = entries.first(where: { $0.sequence == head.sequence }), named.hash != head.hash {
                    problems.append(AuditProblem(sequence: head.sequence, message: "does not match the head kept outside the catalog"))
                } else if last.sequence > head.sequence {
                    // A crash between an entry and its head; each of those entries was checked signed above.
                    result.notes.append("entries \(head.sequence + 1) to \(last.sequence) come after the head (written as a program stopped)")
                }
            } else if head.sequence > 0 {
                problems.append(AuditProblem(sequence: 1, message: "the log is empty but \(head.sequence) entries were written"))
            }
        }
        result.problems = problems
        return result
    }
}

/// The audit sink of the recorder core: appends to the catalog's chain, each entry signed
/// with the recorder's key, and keeps the signed head (last sequence and hash) in a file
/// beside it. A failure is logged, never silent.
public final class AuditLog: AuditSink {
    public let catalog: any Catalog
    public let headPath: String
    public let keys: AuditKeyFolder?
    private let logger = Logger(label: "vigie.audit")
    private let signingKey = Mutex<AuditSigningKey?>(nil)

    public init(catalog: any Catalog, headPath: String, keys: AuditKeyFolder? = nil) {
        self.catalog = catalog
        self.headPath = headPath
        self.keys = keys
    }

    public func record(_ event: OperatorEvent) {
        do {
            _ = try append(event)
        } catch {
            logger.error("audit entry not written (\(event.action)): \(error)")
        }
    }

    /// The key entries are signed with: loaded once, made when there is none (its first
    /// entry says so). Nil (entries unsigned, said in the log) when it cannot be read.
    private func key(for event: OperatorEvent) -> AuditSigningKey? {
        guard let keys else { return nil }
        if let key = signingKey.withLock({ $0 }) { return key }
        do {
            let (key, created) = try keys.loadOrCreate()
            signingKey.withLock { $0 = key }
            if created {
                logger.notice("audit signing key made: \(key.fingerprint) (write it down: `audit verify --key` checks the log against it)")
                let made = OperatorEvent(
                    who: event.who, when: event.when, action: .auditKeyCreated,
                    detail: "audit signing key \(key.fingerprint), public key keys/audit-\(key.id).pub")
                let entry = try catalog.appendAudit(made, signingKey: key)
                writeHead(entry, key: key)
            }
            return key
        } catch {
            logger.error("audit entries are not signed: \(error)")
            return nil
        }
    }

    @discardableResult
    public func append(_ event: OperatorEvent) throws(CatalogError) -> AuditEntry {
        let key = key(for: event)
        let entry = try catalog.appendAudit(event, signingKey: key)
        writeHead(entry, key: key)
        return entry
    }

    private func writeHead(_ entry: AuditEntry, key: AuditSigningKey?) {
        let head = key.map { AuditHead.signed(sequence: entry.sequence, hash: entry.hash, by: $0) } ?? AuditHead(sequence: entry.sequence, hash: entry.hash)
        AuditLog.writeHead(path: headPath, head)
    }

    /// The head file, rewritten in place after each entry (a full disk does not stop it)
    /// under a lock, keeping the highest sequence when processes race.
    static func writeHead(path: String, _ head: AuditHead) {
        SmallFile.write(head.text, to: path, capacity: 512) { current in
            guard let old = AuditHead.parse(current) else { return true }
            return old.sequence <= head.sequence
        }
    }

    /// Sets the head whatever it said before: a rebuilt catalog's chain starts again, and
    /// the entry that starts it names the head that was lost.
    func resetHead(sequence: Int64, hash: String) {
        let key = keys.flatMap { try? $0.load() }
        let head = key.map { AuditHead.signed(sequence: sequence, hash: hash, by: $0) } ?? AuditHead(sequence: sequence, hash: hash)
        SmallFile.write(head.text, to: headPath, capacity: 512)
    }

    public static func readHead(path: String) -> AuditHead? { AuditHeadFile.read(path: path).head }

    public func verify(pinned: String? = nil) throws(CatalogError) -> AuditVerification {
        AuditVerifier.verify(
            try catalog.auditEntries(camera: nil, since: nil, who: nil), head: AuditHeadFile.read(path: headPath),
            keys: keys?.publicKeys() ?? [:], pinned: pinned)
    }
}
