import Foundation
import RecorderCore
import Testing

/// Who may consult which recordings under what (pure): open requisitions' cameras and
/// periods, the reason outside them, the site's rule and mode.
struct ConsultationRuleTests {
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    func site(_ extra: String = "") throws -> Site {
        try CameraInventory.parse(
            yaml: "site:\n  name: T\n  timezone: Europe/Paris\n\(extra)cameras:\n  - { id: a, name: A, location: L, main: \"rtsp://h/1\" }\n", file: "t.yaml"
        ).site
    }

    func requisition(_ number: String, cameras: [String], from: Double, to: Double, status: RequisitionStatus = .open, received: Double = 0) -> Requisition {
        Requisition(
            number: number, authority: "OPJ", basis: .flagrance, received: t0.addingTimeInterval(received),
            scopes: [RequisitionScope(cameras: cameras, start: t0.addingTimeInterval(from), end: t0.addingTimeInterval(to))], status: status,
            createdBy: "tech", createdAt: t0)
    }

    @Test func insideAnOpenRequisitionTheConsultationIsUnderItAndStopsAtItsEnd() throws {
        let list = [requisition("PV 1", cameras: ["a"], from: 0, to: 600), requisition("PV 2", cameras: [], from: 300, to: 900, received: 10)]
        let site = try site()
        #expect(ConsultationRule.decide(camera: "a", at: t0.addingTimeInterval(100), asked: nil, reason: nil, requisitions: list, site: site)
            == .requisition(number: "PV 1", until: t0.addingTimeInterval(600)))
        // Two cover it: the one received first, unless the person names the other.
        #expect(ConsultationRule.decide(camera: "a", at: t0.addingTimeInterval(400), asked: "PV 2", reason: nil, requisitions: list, site: site)
            == .requisition(number: "PV 2", until: t0.addingTimeInterval(900)))
        #expect(ConsultationRule.decide(camera: "b", at: t0.addingTimeInterval(400), asked: nil, reason: nil, requisitions: list, site: site)
            == .requisition(number: "PV 2", until: t0.addingTimeInterval(900)))
        // Named but not covering, unknown, or closed: refused.
        #expect(ConsultationRule.decide(camera: "a", at: t0.addingTimeInterval(700), asked: "PV 1", reason: nil, requisitions: list, site: site)
            == .refused("requisition PV 1 does not cover camera a at that time"))
        #expect(ConsultationRule.decide(camera: "a", at: t0, asked: "PV 9", reason: nil, requisitions: list, site: site) == .refused("no requisition PV 9"))
        let closed = [requisition("PV 1", cameras: ["a"], from: 0, to: 600, status: .closed)]
        #expect(ConsultationRule.decide(camera: "a", at: t0.addingTimeInterval(10), asked: "PV 1", reason: nil, requisitions: closed, site: site)
            == .refused("requisition PV 1 is closed"))
        // A reason that is a requisition's number names it (the console's one prompt).
        #expect(ConsultationRule.decide(camera: "a", at: t0.addingTimeInterval(10), asked: nil, reason: "PV 1", requisitions: list, site: site)
            == .requisition(number: "PV 1", until: t0.addingTimeInterval(600)))
        // Delivered (exported) still allows consultation; the end is excluded.
        let delivered = [requisition("PV 1", cameras: ["a"], from: 0, to: 600, status: .delivered)]
        #expect(ConsultationRule.decide(camera: "a", at: t0.addingTimeInterval(599), asked: nil, reason: nil, requisitions: delivered, site: site)
            == .requisition(number: "PV 1", until: t0.addingTimeInterval(600)))
        #expect(ConsultationRule.decide(camera: "a", at: t0.addingTimeInterval(600), asked: nil, reason: "x", requisitions: delivered, site: site)
            == .outsideRequisition(reason: "x"))
    }

    @Test func outsideAnyRequisitionTheSiteDecides() throws {
        let none: [Requisition] = []
        #expect(ConsultationRule.decide(camera: "a", at: t0, asked: nil, reason: "contrôle", requisitions: none, site: try site())
            == .outsideRequisition(reason: "contrôle"))
        #expect(ConsultationRule.decide(camera: "a", at: t0, asked: nil, reason: "  ", requisitions: none, site: try site())
            == .refused("no open requisition covers camera a at that time: give a reason to consult it outside one"))
        #expect(ConsultationRule.decide(camera: "a", at: t0, asked: nil, reason: "contrôle", requisitions: none, site: try site("  outside_requisition: refused\n"))
            == .refused("no open requisition covers camera a at that time, and this site allows no consultation outside one"))
        let protection = try site("  mode: videoprotection\n")
        #expect(protection.consultationOutsideRequisition == .refused)
        guard case .refused(let why) = ConsultationRule.decide(camera: "a", at: t0, asked: nil, reason: "x", requisitions: none, site: protection) else {
            Issue.record("vidéoprotection allows no consultation outside a requisition")
            return
        }
        #expect(why.contains("vidéoprotection"))
    }

    @Test func aRequisitionNumberIsPrintableAndBounded() {
        #expect(Requisition.problem(number: "PV 2026/117") == nil)
        #expect(Requisition.problem(number: "") != nil)
        #expect(Requisition.problem(number: " PV") != nil)
        #expect(Requisition.problem(number: "PV\u{1b}[2J") != nil)
        #expect(Requisition.problem(number: String(repeating: "9", count: 101)) != nil)
    }
}
