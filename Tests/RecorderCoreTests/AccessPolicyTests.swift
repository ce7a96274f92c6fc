import Foundation
import RecorderCore
import Testing

/// The access rules alone: roles, cameras, expiry, disabling, who a local Unix user is.
@Suite struct AccessPolicyTests {
    let now = Date(timeIntervalSince1970: 1_790_000_000)

    func account(_ role: Role, cameras: [String] = ["*"], unixUser: String? = nil) -> Actor {
        .account(Account(name: "p-\(role.rawValue)", role: role, cameras: cameras, unixUser: unixUser, passwordHash: "", createdBy: "chef", createdAt: now))
    }

    @Test func eachRoleDoesItsOwnActionsOnly() {
        func allowed(_ role: Role) -> Set<Permission> { Set(Permission.allCases.filter { AccessPolicy.refusal(account(role), $0, at: now) == nil }) }
        #expect(allowed(.operator) == [.live, .status])
        #expect(allowed(.technician) == [.live, .playback, .holds, .readHolds, .requisitions, .readRequisitions, .export, .search, .verify, .status])
        // Only a supervisor confirms the release of a requisition's holds.
        #expect(
            allowed(.supervisor) == [
                .live, .playback, .holds, .readHolds, .requisitions, .readRequisitions, .releaseRequisition, .export, .search, .registers, .accounts, .readAccounts,
                .layouts, .verify, .status,
            ])
        // No images for auditors and admins; auditors read the registers.
        #expect(allowed(.auditor) == [.audit, .readHolds, .readRequisitions, .registers, .readAccounts, .verify, .status])
        #expect(allowed(.admin) == [.settings, .verify, .status])
        #expect(AccessPolicy.refusal(account(.operator), .playback, camera: "a", at: now) == "account p-operator (operator) may not play recordings back")
        // Single-user mode: everything.
        #expect(Permission.allCases.allSatisfy { AccessPolicy.refusal(.singleUser(unixUser: "root"), $0, at: now) == nil })
    }

    @Test func picturesOnlyOfTheAccountsCameras() {
        let quays = account(.technician, cameras: ["quai-*", "gare"])
        #expect(AccessPolicy.refusal(quays, .live, camera: "quai-nord", at: now) == nil)
        #expect(AccessPolicy.refusal(quays, .playback, camera: "gare", at: now) == nil)
        #expect(AccessPolicy.refusal(quays, .playback, camera: "gare-sud", at: now) == "account p-technician may not play recordings back on camera gare-sud")
        #expect(AccessPolicy.refusal(quays, .holds, camera: "mairie", at: now) != nil)
        // What is not about pictures is not limited by cameras.
        #expect(AccessPolicy.refusal(quays, .status, camera: "mairie", at: now) == nil)
        #expect(Glob.matches("*", "anything") && Glob.matches("c?m-*-x", "cam-12-x") && !Glob.matches("c?m-*-x", "cam-12-y"))
        #expect(Glob.matches("a*b*c", "axxbyyc") && !Glob.matches("a*b*c", "axxbyy") && Glob.matches("**", ""))
    }

    @Test func anExpiredOrDisabledAccountCannotAct() {
        var person = Account(name: "tech", role: .technician, passwordHash: "", createdBy: "chef", createdAt: now, expires: now.addingTimeInterval(86_400))
        #expect(AccessPolicy.refusal(.account(person), .playback, at: now) == nil)
        #expect(AccessPolicy.refusal(.account(person), .playback, at: now.addingTimeInterval(86_400))?.contains("expired") == true)
        person.disabledAt = now.addingTimeInterval(10)
        #expect(AccessPolicy.refusal(.account(person), .status, at: now.addingTimeInterval(11)) == "account tech is disabled")
    }

    @Test func aLocalUserActsAsItsMappedAccountOrNobody() throws {
        #expect(try AccessPolicy.localActor(unixUser: "marie", accounts: [], at: now).get() == .singleUser(unixUser: "marie"))
        let chef = Account(name: "chef", role: .supervisor, unixUser: "marie", passwordHash: "", createdBy: "marie", createdAt: now)
        #expect(try AccessPolicy.localActor(unixUser: "marie", accounts: [chef], at: now).get() == .account(chef))
        guard case .failure(let error) = AccessPolicy.localActor(unixUser: "paul", accounts: [chef], at: now) else {
            Issue.record("an unmapped user must be refused once an account exists")
            return
        }
        #expect(error.description.contains("the Unix user paul acts as no account"))
        #expect(Account.validName("agent.dupont-2") == nil && Account.validName("2agent") != nil && Account.validName("a b") != nil && Account.validName("") != nil)
    }

    @Test func passwordsAreKeptOnlyAsScryptHashes() throws {
        let stored = try PasswordHash.make("correct horse battery")
        #expect(stored.hasPrefix("$scrypt$ln=15,r=8,p=1$") && !stored.contains("correct"))
        #expect(PasswordHash.matches("correct horse battery", stored))
        #expect(!PasswordHash.matches("correct horse batterY", stored))
        #expect(try PasswordHash.make("correct horse battery") != stored)  // salted
        // A damaged or weakened hash never matches (no cheap parameters accepted).
        #expect(!PasswordHash.matches("correct horse battery", stored.replacingOccurrences(of: "ln=15", with: "ln=1")))
        #expect(!PasswordHash.matches("correct horse battery", "$scrypt$ln=15,r=8,p=1$AAAA$BBBB"))
        #expect(!PasswordHash.matches("", ""))
        #expect(PasswordHash.weakness("short") != nil && PasswordHash.weakness("aaaaaaaaaaaa") != nil && PasswordHash.weakness("correct horse") == nil)
    }

    @Test func failedLoginsWaitLongerAndLongerThenAreForgotten() {
        var throttle = LoginThrottle()
        for second in 0..<3 {
            #expect(throttle.wait(for: "account:tech", at: now + Double(second)) == 0)
            throttle.failed("account:tech", at: now + Double(second))
        }
        // After 3 free failures: 5 s after the last one, then 10, 20... at most 15 minutes.
        #expect(throttle.wait(for: "account:tech", at: now + 2) == 5)
        #expect(throttle.wait(for: "account:tech", at: now + 4) == 3)
        #expect(throttle.wait(for: "account:tech", at: now + 7) == 0)
        #expect(throttle.wait(for: "address:127.0.0.1", at: now + 2) == 0, "each key its own")
        throttle.failed("account:tech", at: now + 7)
        #expect(throttle.wait(for: "account:tech", at: now + 7) == 10)
        for _ in 0..<20 { throttle.failed("account:tech", at: now + 100) }
        #expect(throttle.wait(for: "account:tech", at: now + 100) == LoginThrottle.longestWait)
        // An hour later, forgotten; a success forgets at once.
        #expect(throttle.wait(for: "account:tech", at: now + 100 + LoginThrottle.forgetAfter) == 0)
        throttle.succeeded("account:tech")
        #expect(throttle.wait(for: "account:tech", at: now + 101) == 0)
    }
}
