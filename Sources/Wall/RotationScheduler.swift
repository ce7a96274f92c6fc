public import Foundation

/// Which page the wall shows and when it zaps: a pure state machine driven by the
/// clock it is given (a fake one in tests). The console calls `tick(now:)` and performs
/// the changes it returns.
public struct RotationScheduler: Sendable {
    public enum Change: Sendable, Equatable {
        /// The dwell ran out: the next page is shown.
        case zapped(page: String)
        /// The schedule's window changed (or the layout): the rotation restarts on its first page.
        case windowChanged(window: String?, page: String)
    }

    public private(set) var layout: WallLayout
    public let timeZone: TimeZone
    public private(set) var pages: [WallPage]
    /// The schedule window in force, nil for the default rotation.
    public private(set) var window: String?
    public private(set) var index: Int = 0
    public private(set) var pageStarted: Date
    /// Paused by the operator (the status bar says PAUSED).
    public private(set) var paused = false
    /// Held by the console while the wall is not shown (a camera isolated, a filter): the
    /// page keeps the time it had left, so coming back finds the same page.
    public private(set) var held = false
    /// Since when the page's clock has been stopped (paused or held).
    private var stoppedAt: Date?

    public init(layout: WallLayout, timeZone: TimeZone, now: Date) {
        self.layout = layout
        self.timeZone = timeZone
        let active = layout.activePages(at: now, timeZone: timeZone)
        pages = active.pages
        window = active.window
        pageStarted = now
    }

    public var current: WallPage { pages[index] }

    /// Page number (1-based) and count, for the status bar.
    public var position: (page: Int, of: Int) { (index + 1, pages.count) }

    /// Seconds until the next zap; nil while paused or with a single page.
    public func secondsToNextZap(now: Date) -> Double? {
        guard !paused, pages.count > 1 else { return nil }
        return max(0, current.dwell - (stoppedAt ?? now).timeIntervalSince(pageStarted))
    }

    /// The page the wall will show within `lead` seconds, so its cameras can connect first.
    public func upcoming(now: Date, lead: Double) -> WallPage? {
        guard let remaining = secondsToNextZap(now: now), remaining <= lead else { return nil }
        return pages[(index + 1) % pages.count]
    }

    /// Advances the clock: applies schedule changes and zaps whose time has come.
    public mutating func tick(now: Date) -> Change? {
        let active = layout.activePages(at: now, timeZone: timeZone)
        if active.window != window || active.pages.map(\.name) != pages.map(\.name) {
            pages = active.pages
            window = active.window
            index = 0
            pageStarted = now
            if stoppedAt != nil { stoppedAt = now }
            return .windowChanged(window: window, page: current.name)
        }
        guard !paused, !held, pages.count > 1 else { return nil }
        let elapsed = now.timeIntervalSince(pageStarted)
        guard elapsed >= current.dwell else { return nil }
        // After a long stall (suspended machine), start the new page now rather than zap in a burst.
        pageStarted = elapsed > current.dwell * 2 ? now : pageStarted.addingTimeInterval(current.dwell)
        index = (index + 1) % pages.count
        return .zapped(page: current.name)
    }

    /// The operator asks for the next page: shown now, for a full dwell.
    public mutating func next(now: Date) {
        index = (index + 1) % pages.count
        pageStarted = now
        if stoppedAt != nil { stoppedAt = now }
    }

    public mutating func previous(now: Date) {
        index = (index + pages.count - 1) % pages.count
        pageStarted = now
        if stoppedAt != nil { stoppedAt = now }
    }

    /// Pauses or resumes the rotation; resuming keeps the time the page had left.
    public mutating func togglePause(now: Date) {
        paused.toggle()
        stopClock(paused || held, now: now)
    }

    /// Holds the rotation while the wall is not shown, or releases it: the page keeps the
    /// time it had left (an operator's pause stays as it was).
    public mutating func setHeld(_ held: Bool, now: Date) {
        guard held != self.held else { return }
        self.held = held
        stopClock(paused || held, now: now)
    }

    private mutating func stopClock(_ stopped: Bool, now: Date) {
        if stopped {
            if stoppedAt == nil { stoppedAt = now }
        } else if let since = stoppedAt {
            pageStarted = pageStarted.addingTimeInterval(now.timeIntervalSince(since))
            stoppedAt = nil
        }
    }

    /// A new layout (reloaded file): stays on the page of the same name when it still exists.
    public mutating func replaceLayout(_ newLayout: WallLayout, now: Date) {
        let name = current.name
        layout = newLayout
        let active = newLayout.activePages(at: now, timeZone: timeZone)
        pages = active.pages
        window = active.window
        if let same = pages.firstIndex(where: { $0.name == name }) {
            index = same
        } else {
            index = 0
            pageStarted = now
        }
    }
}
