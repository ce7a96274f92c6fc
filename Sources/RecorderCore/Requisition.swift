public import Foundation

/// The article of the code of criminal procedure a requisition is made under.
public enum LegalBasis: String, Sendable, Hashable, CaseIterable, Codable {
    /// Flagrant offence (enquête de flagrance).
    case flagrance = "60-1"
    /// Preliminary investigation (enquête préliminaire).
    case preliminary = "77-1-1"
    /// Judicial information, under an investigating judge (commission rogatoire).
    case instruction = "99-3"

    public var summary: String {
        switch self {
        case .flagrance: "CPP art. 60-1 (flagrance)"
        case .preliminary: "CPP art. 77-1-1 (enquête préliminaire)"
        case .instruction: "CPP art. 99-3 (information judiciaire)"
        }
    }
}

/// Where a requisition stands.
public enum RequisitionStatus: String, Sendable, Hashable, CaseIterable, Codable {
    /// Entered: its footage is held, its technicians may consult it.
    case open
    /// Its images were handed over (an export); still open to consultation until closed.
    case delivered
    /// Answered and closed: no more consultation; its holds stay until a supervisor releases them.
    case closed

    /// Whether its footage may still be consulted under it.
    public var allowsConsultation: Bool { self != .closed }
}

/// Cameras and a period a requisition asks for.
public struct RequisitionScope: Sendable, Hashable, Codable {
    /// Camera ids; empty means every camera of the site.
    public var cameras: [String]
    public var start: Date
    public var end: Date

    public init(cameras: [String], start: Date, end: Date) {
        self.cameras = cameras
        self.start = start
        self.end = end
    }

    public func includes(camera: String) -> Bool { cameras.isEmpty || cameras.contains(camera) }

    /// Whether `time` of `camera`'s footage falls inside (start included, end excluded).
    public func covers(camera: String, at time: Date) -> Bool { includes(camera: camera) && time >= start && time < end }
}

/// A judicial requisition (réquisition) from the prosecutor or a judicial police officer:
/// which footage it asks for, under which article, by when; who entered it; where it stands.
/// Its footage is held as long as it is not released by a supervisor.
public struct Requisition: Sendable, Hashable {
    public var id: Int64
    /// The procedure or PV number, as the authority wrote it (unique on the site).
    public var number: String
    /// Who asks: the prosecutor, an OPJ, with name and service.
    public var authority: String
    public var basis: LegalBasis
    public var received: Date
    public var deadline: Date?
    public var scopes: [RequisitionScope]
    public var status: RequisitionStatus
    public var createdBy: String
    public var createdAt: Date
    public var closedBy: String?
    public var closedAt: Date?
    /// Whether a supervisor released its holds (after closing).
    public var holdsReleasedBy: String?
    public var holdsReleasedAt: Date?

    public init(
        id: Int64 = 0, number: String, authority: String, basis: LegalBasis, received: Date, deadline: Date? = nil, scopes: [RequisitionScope],
        status: RequisitionStatus = .open, createdBy: String, createdAt: Date
    ) {
        self.id = id
        self.number = number
        self.authority = authority
        self.basis = basis
        self.received = received
        self.deadline = deadline
        self.scopes = scopes
        self.status = status
        self.createdBy = createdBy
        self.createdAt = createdAt
    }

    /// Whether it covers `camera` at `time` and may still be consulted.
    public func allows(camera: String, at time: Date) -> Bool {
        status.allowsConsultation && scopes.contains { $0.covers(camera: camera, at: time) }
    }

    /// The end of the period it covers for `camera` from `time` (consultation stops there).
    public func end(camera: String, from time: Date) -> Date? {
        scopes.filter { $0.covers(camera: camera, at: time) }.map(\.end).max()
    }

    /// The first footage kept inside its scopes (`cameras`: the site's, for a scope of all).
    public func firstFootage(in catalog: any Catalog, cameras all: [String]) throws(CatalogError) -> Date? {
        var first: Date? = nil
        for scope in scopes {
            for camera in scope.cameras.isEmpty ? all : scope.cameras {
                guard let segment = try catalog.segment(camera: camera, containingOrAfter: scope.start), segment.start < scope.end else { continue }
                let start = max(segment.start, scope.start)
                if first == nil || start < first! { first = start }
            }
        }
        return first
    }

    /// Every camera it names (empty: all of the site).
    public var cameras: [String] {
        scopes.contains { $0.cameras.isEmpty } ? [] : Array(Set(scopes.flatMap(\.cameras))).sorted()
    }

    /// A number as typed: printable, no control character, 1 to 100 characters, no slash at
    /// either end. Nil when fine, else why not.
    public static func problem(number: String) -> String? {
        let trimmed = number.trimmingCharacters(in: .whitespaces)
        if trimmed.isEmpty { return "a requisition number must not be empty" }
        if trimmed.count > 100 { return "a requisition number is at most 100 characters" }
        if trimmed != number { return "a requisition number has no space at either end" }
        if let (position, problem) = TerminalText.firstProblem(in: number) { return "the requisition number contains \(problem) at character \(position)" }
        return nil
    }
}

/// Whether a person may consult recordings of a camera at a time, and under what: pure,
/// decided from the open requisitions and the site's rule.
public enum ConsultationRule {
    public enum Decision: Sendable, Hashable {
        /// Inside this requisition's cameras and period: consultation stops at `until`.
        case requisition(number: String, until: Date)
        /// Outside any requisition, allowed with the typed reason (marked so in the audit log).
        case outsideRequisition(reason: String)
        /// Refused, and why.
        case refused(String)
    }

    /// `asked`: the requisition the person names (nil: whichever covers the footage; a
    /// `reason` that is a requisition's number names it too). `reason`: what they typed. Single-user mode (a first install, the demo) follows the
    /// same rule: the site says whether it allows consultation outside a requisition.
    public static func decide(
        camera: String, at time: Date, asked: String?, reason: String?, requisitions: [Requisition], site: Site
    ) -> Decision {
        // A console's one prompt takes either: a reason that is a requisition's number names it.
        let asked = asked ?? reason.flatMap { typed in requisitions.first { $0.number == typed.trimmingCharacters(in: .whitespaces) }?.number }
        if let asked {
            guard let requisition = requisitions.first(where: { $0.number == asked }) else { return .refused("no requisition \(asked)") }
            guard requisition.status.allowsConsultation else { return .refused("requisition \(asked) is closed") }
            guard let until = requisition.end(camera: camera, from: time) else {
                return .refused("requisition \(asked) does not cover camera \(camera) at that time")
            }
            return .requisition(number: requisition.number, until: until)
        }
        let covering = requisitions.filter { $0.allows(camera: camera, at: time) }.sorted { $0.received < $1.received }
        if let first = covering.first, let until = first.end(camera: camera, from: time) {
            return .requisition(number: first.number, until: until)
        }
        switch site.consultationOutsideRequisition {
        case .refused:
            return .refused(
                site.mode == .videoprotection
                    ? "this site is in vidéoprotection mode: recordings only through an open requisition covering camera \(camera) at that time"
                    : "no open requisition covers camera \(camera) at that time, and this site allows no consultation outside one")
        case .withReason:
            guard let reason, !reason.trimmingCharacters(in: .whitespaces).isEmpty else {
                return .refused("no open requisition covers camera \(camera) at that time: give a reason to consult it outside one")
            }
            return .outsideRequisition(reason: reason)
        }
    }
}
