public import Foundation

/// Something an operator, a technician or the recorder did, for the audit log the
/// recorder core keeps: who, when, what, which camera, which footage, why. Never carries
/// a camera address (credentials stay out of the log).
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
        public static let playback = Action("recording.play")
        public static let holdAdded = Action("hold.add")
        public static let holdReleased = Action("hold.release")
        public static let requisitionAdded = Action("requisition.add")
        public static let requisitionExtended = Action("requisition.extend")
        public static let requisitionClosed = Action("requisition.close")
        public static let exported = Action("evidence.export")
        /// A requisition's footage analysed (started, then finished or stopped).
        public static let analysisStarted = Action("analysis.run")
        /// A search of a requisition's index, with its criteria.
        public static let searched = Action("search")
        public static let softwareOpened = Action("software.open")
        public static let evidenceKeyCreated = Action("evidence.key")
        public static let reportMade = Action("report.make")
        public static let destroyed = Action("recording.destroy")
        public static let recorderStarted = Action("recorder.start")
        public static let recorderStopped = Action("recorder.stop")
        public static let recoveredAfterCrash = Action("recorder.recover")
        public static let configurationChanged = Action("config.change")
        public static let retentionNotMet = Action("retention.alert")
        /// A file among the footage that the recorder did not write, kept apart.
        public static let foreignFile = Action("storage.foreign")
        /// Only held footage left on a full disk: recording paused, then resumed.
        public static let recordingPaused = Action("storage.pause")
        public static let recordingResumed = Action("storage.resume")
        /// The catalog was found damaged, set aside and rebuilt.
        public static let catalogRebuilt = Action("catalog.rebuild")
        /// The recorder made a new key to sign the audit log (first start, or the key was lost).
        public static let auditKeyCreated = Action("audit.key")
        /// An action the person's account (or lack of one) does not allow.
        public static let accessRefused = Action("access.refuse")
        public static let accountAdded = Action("account.add")
        public static let accountChanged = Action("account.change")
        public static let passwordChanged = Action("account.passwd")
        public static let accountDisabled = Action("account.disable")
        public static let accountEnabled = Action("account.enable")
        public static let login = Action("login")
        public static let logout = Action("logout")
        /// A wrong account or password, a throttled try, an unusable account.
        public static let loginFailed = Action("login.fail")
        public static let sessionRevoked = Action("session.revoke")
    }

    /// The named account (the Unix user in single-user mode, `unix:USER` for a refused unmapped one).
    public let who: String
    public let when: Date
    public let action: Action
    public let cameraID: String?
    /// Free text: page name, file, error, counts.
    public let detail: String?
    /// The footage concerned (playback, hold, destruction), UTC.
    public let from: Date?
    public let to: Date?
    /// Why, as the person gave it (a requisition number and its object).
    public let reason: String?
    /// The judicial requisition the action was done under (playback, export, search), when any.
    public let requisition: String?

    public init(
        who: String, when: Date = Date(), action: Action, cameraID: String? = nil, detail: String? = nil, from: Date? = nil,
        to: Date? = nil, reason: String? = nil, requisition: String? = nil
    ) {
        self.who = who
        self.when = when
        self.action = action
        self.cameraID = cameraID
        self.detail = detail
        self.from = from
        self.to = to
        self.reason = reason
        self.requisition = requisition
    }
}

/// Where operator events go: the recorder core's audit log, a test's list.
public protocol AuditSink: Sendable {
    func record(_ event: OperatorEvent)
}
