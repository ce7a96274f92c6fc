public import Foundation

/// Where a segment file lives under the storage folder, and back: `CAMERA/YYYY-MM-DD/HHMMSS.ts`
/// in UTC for the main stream, `HHMMSS.sub.ts` for the sub stream (`HHMMSS-2.ts` and so on
/// when a name is taken). The one place that builds and reads these names (the recorder,
/// recovery, a rebuild, the synthetic catalog).
public enum SegmentPath {
    /// The relative path of a segment of `camera`'s `stream` starting at `start` (whole seconds, UTC).
    public static func make(camera: String, start: Date, counter: Int = 1, stream: StreamChoice = .main) -> String {
        let seconds = Int((start.timeIntervalSince1970).rounded(.down))
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let second = seconds - days * 86_400
        let (year, month, day) = civil(daysSince1970: days)
        let suffix = (counter > 1 ? "-\(counter)" : "") + (stream == .sub ? ".sub" : "")
        return "\(camera)/\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))/\(pad(second / 3600, 2))\(pad(second / 60 % 60, 2))\(pad(second % 60, 2))\(suffix).ts"
    }

    /// A UTC time as a compact name part: `20261201T210415Z`.
    public static func stamp(_ time: Date) -> String {
        let name = make(camera: "-", start: time)  // -/YYYY-MM-DD/HHMMSS.ts
        let parts = name.split(separator: "/")
        return parts[1].replacingOccurrences(of: "-", with: "") + "T" + parts[2].dropLast(3) + "Z"
    }

    /// The camera, UTC start and stream a path names, or nil when it is not a segment's path.
    public static func parse(_ path: String) -> (camera: String, start: Date, stream: StreamChoice)? {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 3, !parts[0].isEmpty, parts[2].hasSuffix(".ts") else { return nil }
        let date = parts[1].split(separator: "-", omittingEmptySubsequences: false)
        let sub = parts[2].hasSuffix(".sub.ts")
        let name = parts[2].dropLast(sub ? 7 : 3)
        let time = name.prefix(6)
        let rest = name.dropFirst(6)
        guard date.count == 3, date[0].count == 4, date[1].count == 2, date[2].count == 2, time.count == 6,
            time.allSatisfy(\.isASCII), time.allSatisfy(\.isNumber),
            rest.isEmpty || (rest.hasPrefix("-") && rest.count > 1 && rest.dropFirst().allSatisfy(\.isNumber)),
            let year = Int(date[0]), let month = Int(date[1]), let day = Int(date[2]), let hhmmss = Int(time),
            (1...12).contains(month), (1...31).contains(day), hhmmss / 10000 < 24, hhmmss / 100 % 100 < 60, hhmmss % 100 < 60
        else { return nil }
        let days = daysSince1970(year: year, month: month, day: day)
        let seconds = days * 86_400 + hhmmss / 10000 * 3600 + hhmmss / 100 % 100 * 60 + hhmmss % 100
        return (String(parts[0]), Date(timeIntervalSince1970: Double(seconds)), sub ? .sub : .main)
    }

    private static func pad(_ value: Int, _ width: Int) -> String {
        let text = String(value)
        return text.count >= width ? text : String(repeating: "0", count: width - text.count) + text
    }

    /// Year, month, day of a day count since 1970-01-01 (proleptic Gregorian, UTC).
    static func civil(daysSince1970 days: Int) -> (Int, Int, Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    /// Days since 1970-01-01 of a civil date (the inverse of `civil`).
    static func daysSince1970(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }
}
