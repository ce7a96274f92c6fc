import Foundation
import RecorderCore
import TestSupport
import Testing

/// The three tamperings a chain alone missed, done as an attacker would with sqlite3 and a
/// text editor, knowing the chain's format (so every hash they write is right): rows
/// appended with the head untouched, the end cut with the head removed or garbled, and a
/// consistent rewrite of the catalog and the head. The recorder's signatures catch them
/// all; replacing the key pair too is caught against the fingerprint an auditor kept.
@Suite struct AuditSignatureTests {
    let t0 = Date(timeIntervalSince1970: 1_790_000_000)

    /// A signed log of `count` entries in a folder of its own.
    func signedLog(_ count: Int) throws -> (log: AuditLog, folder: URL) {
        let folder = TestPaths.temporaryFolder("signed")
        let catalog = try SQLiteCatalog(path: folder.appendingPathComponent("catalog.sqlite").path)
        let log = AuditLog(catalog: catalog, headPath: folder.appendingPathComponent("audit.head").path, keys: AuditKeyFolder(storage: folder))
        for index in 0..<count {
            try log.append(
                OperatorEvent(who: "tech\(index % 3)", when: t0.addingTimeInterval(Double(index)), action: .playback, cameraID: "a",
                              from: t0, to: t0.addingTimeInterval(60), reason: "PV-\(index)"))
        }
        return (log, folder)
    }

    func sql(_ folder: URL, _ statement: String) throws {
        let result = try runProgram("/usr/bin/sqlite3", [folder.appendingPathComponent("catalog.sqlite").path, statement])
        #expect(result.status == 0, "\(result.stderr)")
    }

    func quoted(_ text: String?) -> String { text.map { "'" + $0.replacingOccurrences(of: "'", with: "''") + "'" } ?? "NULL" }

    /// Appends entries chained exactly as the recorder chains them, signatures copied from the
    /// last real entry (the best an attacker without the key can do), or none.
    func appendForged(_ log: AuditLog, _ folder: URL, count: Int, copySignature: Bool) throws {
        var last = try #require(try log.catalog.auditEntries(camera: nil, since: nil, who: nil).last)
        for index in 0..<count {
            let event = OperatorEvent(who: "tech0", when: last.event.when.addingTimeInterval(1), action: .playback, cameraID: "b", reason: "forged \(index)")
            let sequence = last.sequence + 1
            let hash = AuditEntry.hash(sequence: sequence, event: event, previousHash: last.hash)
            try sql(
                folder,
                "INSERT INTO audit (sequence, at_us, who, action, camera, reason, previous_hash, hash, signer, signature) VALUES (\(sequence), \(Int64(event.when.timeIntervalSince1970 * 1e6)), 'tech0', 'recording.play', 'b', \(quoted(event.reason)), '\(last.hash)', '\(hash)', \(quoted(copySignature ? last.signer : nil)), \(quoted(copySignature ? last.signature : nil)))"
            )
            last = AuditEntry(sequence: sequence, event: event, previousHash: last.hash, hash: hash)
        }
    }

    @Test(arguments: [(1, false), (3, false), (3, true)])
    func rowsAppendedWithTheHeadUntouchedAreCaught(count: Int, copySignature: Bool) throws {
        let (log, folder) = try signedLog(5)
        #expect(try log.verify().problems.isEmpty)
        try appendForged(log, folder, count: count, copySignature: copySignature)
        let problems = try log.verify().problems
        #expect(problems.count == count, "\(problems)")
        #expect(problems.allSatisfy { $0.message.contains("not signed by the recorder") || $0.message.contains("signature is not the recorder's") }, "\(problems)")
    }

    @Test func theEndCutWithTheHeadRemovedOrGarbledIsCaught() throws {
        let (log, folder) = try signedLog(5)
        let head = folder.appendingPathComponent("audit.head")
        try sql(folder, "DELETE FROM audit WHERE sequence = (SELECT MAX(sequence) FROM audit)")
        #expect(try log.verify().problems.contains { $0.message.contains("removed from the end") })
        unlink(head.path)
        #expect(try log.verify().problems.contains { $0.message.contains("audit.head is missing") })
        try Data((0..<300).map { _ in UInt8.random(in: 0...255) }).write(to: head)
        #expect(try log.verify().problems.contains { $0.message.contains("audit.head is damaged") })
        // Nor will a head written to match the cut end do: the attacker cannot sign it.
        let last = try #require(try log.catalog.auditEntries(camera: nil, since: nil, who: nil).last)
        try "\(last.sequence) \(last.hash)\n".write(to: head, atomically: true, encoding: .utf8)
        #expect(try log.verify().problems.contains { $0.message.contains("head is not signed") })
        try "\(last.sequence) \(last.hash) \(last.signer ?? "") \(Int64(Date().timeIntervalSince1970 * 1e6)) \(last.signature ?? "")\n".write(
            to: head, atomically: true, encoding: .utf8)
        #expect(try log.verify().problems.contains { $0.message.contains("head's signature is not the recorder's") })
    }

    @Test func aConsistentRewriteOfTheCatalogAndTheHeadIsCaught() throws {
        let (log, folder) = try signedLog(6)
        // Entry 3's person changed, every hash after it recomputed, the head rewritten to match.
        let entries = try log.catalog.auditEntries(camera: nil, since: nil, who: nil)
        var previous = AuditEntry.genesis
        for entry in entries {
            let event = entry.sequence == 3
                ? OperatorEvent(who: "someone-else", when: entry.event.when, action: entry.event.action, cameraID: entry.event.cameraID, detail: entry.event.detail, from: entry.event.from, to: entry.event.to, reason: entry.event.reason)
                : entry.event
            let hash = AuditEntry.hash(sequence: entry.sequence, event: event, previousHash: previous)
            try sql(folder, "UPDATE audit SET who = \(quoted(event.who)), previous_hash = '\(previous)', hash = '\(hash)' WHERE sequence = \(entry.sequence)")
            previous = hash
        }
        let head = try #require(AuditLog.readHead(path: log.headPath))
        try "\(entries.count) \(previous) \(head.signer ?? "") \(Int64(Date().timeIntervalSince1970 * 1e6)) \(head.signature ?? "")\n".write(
            to: URL(fileURLWithPath: log.headPath), atomically: true, encoding: .utf8)
        let problems = try log.verify().problems
        // No chaining error is left: only the signatures tell, from the rewritten entry on.
        #expect(!problems.contains { $0.message.contains("link") || $0.message.contains("changed") }, "\(problems)")
        #expect(Set(problems.filter { $0.message.contains("signature is not the recorder's") }.map(\.sequence)) == Set(3...7), "\(problems)")
        #expect(problems.contains { $0.message.contains("head's signature") })
    }

    @Test func aReplacedKeyPairIsCaughtAgainstTheFingerprintKept() throws {
        let (log, folder) = try signedLog(4)
        let kept = try #require(try AuditKeyFolder(storage: folder).load()).fingerprint
        #expect(try log.verify(pinned: kept).problems.isEmpty)
        #expect(try log.verify().signedBy == [kept])
        // The attacker throws the keys away and rewrites the whole log under a key of their own.
        try FileManager.default.removeItem(at: folder.appendingPathComponent("keys"))
        let entries = try log.catalog.auditEntries(camera: nil, since: nil, who: nil)
        try sql(folder, "DELETE FROM audit")
        unlink(log.headPath)
        let rewritten = AuditLog(catalog: log.catalog, headPath: log.headPath, keys: AuditKeyFolder(storage: folder))
        for entry in entries where entry.event.action != .auditKeyCreated { try rewritten.append(entry.event) }
        #expect(try rewritten.verify().problems.isEmpty)  // whole in itself...
        let problems = try rewritten.verify(pinned: kept).problems
        #expect(!problems.isEmpty && problems.allSatisfy { $0.message.contains("not by the expected \(kept)") }, "\(problems)")
    }

    @Test func aChainFromBeforeSigningGoesOnSignedAndItsStartIsNamed() throws {
        let folder = TestPaths.temporaryFolder("upgrade")
        let catalog = try SQLiteCatalog(path: folder.appendingPathComponent("catalog.sqlite").path)
        let unsigned = AuditLog(catalog: catalog, headPath: folder.appendingPathComponent("audit.head").path)
        for index in 0..<3 { try unsigned.append(OperatorEvent(who: "x", when: t0.addingTimeInterval(Double(index)), action: .consoleStarted)) }
        #expect(try unsigned.verify().problems.isEmpty)
        let signed = AuditLog(catalog: catalog, headPath: unsigned.headPath, keys: AuditKeyFolder(storage: folder))
        try signed.append(OperatorEvent(who: "x", action: .holdAdded))
        let result = try signed.verify()
        #expect(result.problems.isEmpty, "\(result.problems)")
        #expect(result.unsignedPrefix == 3 && result.notes.contains { $0.contains("entries 1 to 3 were written before") })
        #expect(try catalog.auditEntries(camera: nil, since: nil, who: nil).map(\.event.action) == [.consoleStarted, .consoleStarted, .consoleStarted, .auditKeyCreated, .holdAdded])
        // An unsigned row slipped in after signing began is not part of that start.
        _ = try unsigned.append(OperatorEvent(who: "x", action: .holdReleased))
        #expect(Set(try signed.verify().problems.map(\.sequence)) == [6])
    }

    @Test func theKeyIsKeptSecretAndItsFingerprintPrinted() throws {
        let folder = TestPaths.temporaryFolder("keycli")
        let site = try TestSites.simulated(["a"], in: folder)
        let common = ["--site", site.path, "--storage", folder.appendingPathComponent("storage").path]
        let hold = try TestSites.vigie(
            ["hold", "add", "--reference", "PV-1", "--cameras", "a", "--from", "2026-11-30 10:00:00", "--to", "2026-11-30 11:00:00", "--reason", "vol"] + common)
        #expect(hold.status == 0, "\(hold.stderr)")
        let keys = folder.appendingPathComponent("storage/keys")
        let mode = { (path: String) in ((try? FileManager.default.attributesOfItem(atPath: path))?[.posixPermissions] as? Int) ?? -1 }
        #expect(mode(keys.path) == 0o700 && mode(keys.appendingPathComponent("audit.key").path) == 0o600)
        let status = try TestSites.vigie(["recorder", "status"] + common)
        let fingerprint = try #require(status.stdout.split(separator: "\n").first { $0.hasPrefix("Audit log signing key SHA256:") })
            .split(separator: " ")[4]
        let verified = try TestSites.vigie(["audit", "verify", "--key", String(fingerprint)] + common)
        #expect(verified.status == 0 && verified.stdout.contains("audit chain whole: 2 entries") && verified.stdout.contains("signed by \(fingerprint)"), "\(verified.stdout)")
        let other = "SHA256:" + String(repeating: "ab", count: 32)
        let wrong = try TestSites.vigie(["audit", "verify", "--key", other] + common)
        #expect(wrong.status == 1 && wrong.stdout.contains("not by the expected \(other)"), "\(wrong.stdout)")
        #expect(try TestSites.vigie(["audit", "verify", "--key", "abc"] + common).status == 64)
    }
}
