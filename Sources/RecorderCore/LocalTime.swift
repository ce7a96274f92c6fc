public import Foundation

/// Times as people type and read them: local wall-clock time in the site's zone, stored
/// in UTC. Around daylight-saving changes a typed time may not exist (clocks went forward:
/// an error says so) or exist twice (clocks went back: the first is taken unless the
/// offset is given, "2026-10-25 02:30:00 +01:00", or the time is in UTC with a "Z").
public enum LocalTime {
    public struct ParseError: Error, CustomStringConvertible, Sendable {
        public let description: String
    }

    /// Parses "YYYY-MM-DD HH:MM[:SS]" (or with a T), optionally followed by "Z", "UTC"
    /// or an offset "+01:00".
    public static func parse(_ text: String, timeZone: TimeZone) throws(ParseError) -> Date {
        var body = text.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "T", with: " ")
        var fixedOffset: Int? = nil
        if body.hasSuffix("Z") || body.hasSuffix(" UTC") {
            body = String(body.dropLast(body.hasSuffix("Z") ? 1 : 4)).trimmingCharacters(in: .whitespaces)
            fixedOffset = 0
        } else if let match = body.range(of: #"\s*[+-]\d{2}:?\d{2}$"#, options: .regularExpression) {
            let offset = body[match].trimmingCharacters(in: .whitespaces).replacingOccurrences(of: ":", with: "")
            let sign = offset.hasPrefix("-") ? -1 : 1
            let digits = Int(offset.dropFirst()) ?? 0
            fixedOffset = sign * ((digits / 100) * 3600 + (digits % 100) * 60)
            body = String(body[..<match.lowerBound])
        }
        let parts = body.split(separator: " ")
        let day = parts.first.map { $0.split(separator: "-").compactMap { Int($0) } } ?? []
        // Seconds may carry a fraction (a frame's time): "12:30:05.480".
        let clockFields = parts.count > 1 ? parts[1].split(separator: ":", omittingEmptySubsequences: false) : ["0", "0", "0"]
        var fraction = 0.0
        var clock: [Int] = []
        for (index, field) in clockFields.enumerated() {
            if index == 2, field.contains("."), let seconds = Double(field), seconds >= 0 {
                clock.append(Int(seconds))
                fraction = seconds - Double(Int(seconds))
            } else if let value = Int(field) {
                clock.append(value)
            } else {
                clock.append(-1)
            }
        }
        guard parts.count <= 2, day.count == 3, (2...3).contains(clock.count) || parts.count == 1,
            (1...12).contains(day[1]), (1...31).contains(day[2]), clock.allSatisfy({ $0 >= 0 }),
            clock[0] < 24, clock.count < 2 || clock[1] < 60, clock.count < 3 || clock[2] < 60
        else {
            throw ParseError(description: "`\(text)` is not a date and time: write YYYY-MM-DD HH:MM:SS (local time)")
        }
        var components = DateComponents()
        components.year = day[0]
        components.month = day[1]
        components.day = day[2]
        components.hour = clock[0]
        components.minute = clock.count > 1 ? clock[1] : 0
        components.second = clock.count > 2 ? clock[2] : 0
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        guard let whole = calendar.date(from: components), calendar.component(.day, from: whole) == day[2] else {
            throw ParseError(description: "`\(text)`: no such day")
        }
        let asUTC = whole.addingTimeInterval(fraction)
        if let fixedOffset { return asUTC.addingTimeInterval(-Double(fixedOffset)) }
        // The instants whose local reading is this wall-clock time: try both offsets in force around it.
        let offsets = Set([-86_400.0, 0, 86_400].map { Double(timeZone.secondsFromGMT(for: asUTC.addingTimeInterval($0))) })
        let matches = offsets.map { asUTC.addingTimeInterval(-$0) }.filter {
            Double(timeZone.secondsFromGMT(for: $0)) == asUTC.timeIntervalSince($0)
        }.sorted()
        guard let first = matches.first else {
            throw ParseError(description: "`\(text)` does not exist in \(timeZone.identifier): the clocks went forward at that time")
        }
        return first
    }

    /// "YYYY-MM-DD HH:MM:SS" in the zone, with the offset when `offset` (so both 02:30 of a
    /// night when clocks go back read differently).
    public static func format(_ date: Date, timeZone: TimeZone, offset: Bool = false, fraction: Bool = false) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second, .nanosecond], from: date)
        var text = String(format: "%04d-%02d-%02d %02d:%02d:%02d", c.year ?? 0, c.month ?? 0, c.day ?? 0, c.hour ?? 0, c.minute ?? 0, c.second ?? 0)
        if fraction { text += String(format: ".%03d", (c.nanosecond ?? 0) / 1_000_000) }
        if offset {
            let seconds = timeZone.secondsFromGMT(for: date)
            text += String(format: " %@%02d:%02d", seconds < 0 ? "-" : "+", abs(seconds) / 3600, abs(seconds) % 3600 / 60)
        }
        return text
    }
}
