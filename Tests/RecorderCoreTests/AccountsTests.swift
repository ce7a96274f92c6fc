import Foundation
import RecorderCore
import TestSupport
import Testing

/// Named accounts through the command line, with real Unix users (setpriv: the tests run as
/// root): single-user mode until the first account, then each local user acts as its account,
/// each role does only its own actions, refusals are audited, and passwords are kept nowhere
/// in clear.
@Suite struct AccountsTests {
    @Test func namedAccountsEndSingleUserModeAndEachRoleDoesOnlyItsOwnActions() throws {
        let folder = TestPaths.temporaryFolder("accounts")
        chmod(folder.path, 0o755)
        let site = try TestSites.addresses(["rtsp://127.0.0.1:9/a", "rtsp://127.0.0.1:9/b"], in: folder)
        let storage = folder.appendingPathComponent("storage")
        let common = ["--site", site.path, "--storage", storage.path]
        let secret = "correct horse battery", agentSecret = "tr0mbone-staple-42"
        func vigie(_ arguments: [String], input: String? = nil) throws -> (status: Int32, stdout: String, stderr: String) {
            try TestSites.vigie(arguments + common, input: input)
        }
        func nobody(_ arguments: [String], input: String? = nil) throws -> (status: Int32, stdout: String, stderr: String) {
            try TestSites.vigie(as: "nobody", arguments + common, input: input)
        }

        // Single-user mode: the first account must be a supervisor, with a real password.
        let first = try vigie(["accounts", "add", "agent", "--role", "operator"], input: "a good password here\n")
        #expect(first.status == 64 && first.stderr.contains("the first account must be a supervisor"), "\(first.stderr)")
        let weak = try vigie(["accounts", "add", "chef", "--role", "supervisor"], input: "short\n")
        #expect(weak.status == 64 && weak.stderr.contains("at least 10 characters"), "\(weak.stderr)")
        let chef = try vigie(["accounts", "add", "chef", "--role", "supervisor"], input: secret + "\n")
        #expect(chef.status == 0 && chef.stdout.contains("the Unix user root acts as it") && chef.stdout.contains("single-user mode ended"), "\(chef)")
        let agent = try vigie(["accounts", "add", "agent", "--role", "operator", "--cameras", "cam0", "--unix-user", "nobody"], input: agentSecret + "\n")
        #expect(agent.status == 0, "\(agent.stderr)")
        #expect(try vigie(["accounts", "add", "agent", "--role", "auditor"], input: "another password\n").status == 65)
        let taken = try vigie(["accounts", "add", "other", "--role", "auditor", "--unix-user", "nobody"], input: "another password\n")
        #expect(taken.status == 65 && taken.stderr.contains("the Unix user nobody already acts as account agent"), "\(taken.stderr)")
        #expect(try vigie(["accounts", "add", "x", "--role", "king"], input: "another password\n").status == 64)

        // Another person on the machine: the storage is theirs to write, the signing key is not.
        for name in ["", "catalog.sqlite", "catalog.sqlite-wal", "catalog.sqlite-shm", "audit.head"] {
            chmod(storage.appendingPathComponent(name).path, name.isEmpty ? 0o777 : 0o666)
        }
        #expect(try nobody(["recorder", "status"]).status == 0)
        let holds = try nobody(["hold", "list"])
        #expect(holds.status == 77 && holds.stderr.contains("account agent (operator) may not list holds"), "\(holds.stderr)")
        #expect(try nobody(["recordings", "list", "cam0"]).status == 77)
        let play = try nobody(["play", "cam0", "--at", "2026-11-30 10:00:00", "--frames", "1"])
        #expect(play.status == 77 && play.stderr.contains("may not play recordings back"), "\(play.stderr)")
        #expect(try nobody(["hold", "add", "--reference", "PV", "--cameras", "cam0", "--from", "2026-11-30 10:00:00", "--to", "2026-11-30 11:00:00", "--reason", "x"]).status == 77)
        #expect(try nobody(["accounts", "add", "mine", "--role", "supervisor"], input: "a good password here\n").status == 77)
        let stranger = try TestSites.vigie(as: "bin", ["recorder", "status"] + common)
        #expect(stranger.status == 77 && stranger.stderr.contains("the Unix user bin acts as no account"), "\(stranger.stderr)")

        // A technician on cam0 only: its recordings, not another camera's.
        #expect(try vigie(["accounts", "change", "agent", "--role", "technician"]).status == 0)
        #expect(try nobody(["recordings", "list", "cam0"]).status == 0)
        let other = try nobody(["recordings", "list", "cam1"])
        #expect(other.status == 77 && other.stderr.contains("may not play recordings back on camera cam1"), "\(other.stderr)")
        // Habilitation expired, then disabled: no action at all.
        #expect(try vigie(["accounts", "change", "agent", "--expires", "2020-01-01"]).status == 0)
        let expired = try nobody(["recorder", "status"])
        #expect(expired.status == 77 && expired.stderr.contains("expired"), "\(expired.stderr)")
        #expect(try vigie(["accounts", "change", "agent", "--no-expiry"]).status == 0)
        #expect(try vigie(["accounts", "disable", "agent", "--reason", "départ"]).status == 0)
        #expect(try nobody(["recorder", "status"]).stderr.contains("account agent is disabled"))
        #expect(try vigie(["accounts", "enable", "agent"]).status == 0)
        #expect(try nobody(["recorder", "status"]).status == 0)
        // One's own password; the last supervisor stays.
        #expect(try nobody(["accounts", "passwd"], input: "a new tr0mbone pass\n").status == 0)
        #expect(try vigie(["accounts", "disable", "chef"]).stderr.contains("last active supervisor"))
        #expect(try vigie(["accounts", "change", "chef", "--role", "operator"]).status == 64)
        let list = try vigie(["accounts", "list"])
        #expect(list.stdout.contains("agent") && list.stdout.contains("technician") && list.stdout.contains("cam0") && list.stdout.contains("nobody"), "\(list.stdout)")

        // The audit log has every change and every refusal, with the account that acted.
        let audit = sqlite(storage.appendingPathComponent("catalog.sqlite").path, "SELECT who || ' ' || action || ' ' || IFNULL(detail, '') FROM audit ORDER BY sequence")
        for expected in [
            "root account.add account chef role supervisor", "chef account.add account agent role operator cameras cam0 unix user nobody",
            "agent access.refuse list holds", "agent access.refuse play recordings back", "agent access.refuse add or release holds",
            "agent access.refuse manage accounts", "unix:bin access.refuse", "chef account.change account agent: role operator -> technician",
            "chef account.disable account agent", "chef account.enable account agent", "agent account.passwd password of account agent changed",
        ] {
            #expect(audit.contains(expected), "\(expected) in:\n\(audit)")
        }
        // No password anywhere in clear: not in the catalog's bytes, its audit, nor any output.
        var bytes = Data()
        for name in ["catalog.sqlite", "catalog.sqlite-wal", "audit.head"] {
            bytes += (try? Data(contentsOf: storage.appendingPathComponent(name))) ?? Data()
        }
        for password in [secret, agentSecret, "a new tr0mbone pass"] {
            #expect(bytes.range(of: Data(password.utf8)) == nil)
            #expect(!audit.contains(password) && !list.stdout.contains(password))
        }
        #expect(sqlite(storage.appendingPathComponent("catalog.sqlite").path, "SELECT COUNT(*) FROM accounts WHERE password LIKE '$scrypt$ln=15,r=8,p=1$%'") == "2")
    }
}
