public import Foundation

/// Something an operator or technician did, for the audit log the recorder core keeps:
/// who, when, what, which camera. Consoles emit these; the recorder core (next) chains
/// and stores them. Never carries a camera address (credentials stay out of the log).
public struct OperatorEvent: Sendable, Hashable {
    /// What was done. A struct over strings so later kinds can be added without breaking.
    public struct Action: Hashable, Sendable, CustomStringConvertible {
        public let name: String
        public init(_ name: String) { self.name = name }
        public var description: String { name }

        public static let consoleStarted = Action("console.start")
        public static let consoleStopped = Action("console.stop")
        public static let isolated = Action("camera.isolate")
        public static let returnedToWall = Action("camera.return")
        public static let pageChanged = Action("wall.page")
        public static let rotationPaused = Action("wall.pause")
        public static let rotationResumed = Action("wall.resume")
        public static let layoutReloaded = Action("layout.reload")
        public static let layoutRejected = Action("layout.reject")
    }

    /// The named person (the Unix user until accounts exist).
    public let who: String
    public let when: Date
    public let action: Action
    public let cameraID: String?
    /// Free text: page name, reason, file, error.
    public let detail: String?

    public init(who: String, when: Date = Date(), action: Action, cameraID: String? = nil, detail: String? = nil) {
        self.who = who
        self.when = when
        self.action = action
        self.cameraID = cameraID
        self.detail = detail
    }
}

/// Where operator events go: the recorder core's audit log (next), a test's list.
public protocol AuditSink: Sendable {
    func record(_ event: OperatorEvent)
}
