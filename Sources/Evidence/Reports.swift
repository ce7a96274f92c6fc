public import Foundation
public import RecorderAPI
import RecorderCore

/// The register and the compliance report in words (text, PDF), as a table (CSV) or a web
/// page (HTML): the same facts, for people who are not technicians.
public enum Reports {
    static func zone(_ identifier: String) -> TimeZone { TimeZone(identifier: identifier) ?? TimeZone(identifier: "UTC")! }
    static func time(_ date: Date?, _ zone: TimeZone) -> String { date.map { LocalTime.format($0, timeZone: zone, offset: true) } ?? "-" }
    static func size(_ bytes: Int64) -> String {
        let units = ["B", "KB", "MB", "GB", "TB"]
        var value = Double(bytes), unit = 0
        while value >= 1000 && unit < units.count - 1 {
            value /= 1000
            unit += 1
        }
        return unit == 0 ? "\(bytes) B" : String(format: "%.1f %@", value, units[unit])
    }

    // MARK: Register

    public static func registerLines(_ register: RegisterInfo) -> [PDFText.Line] {
        let zone = zone(register.timeZone)
        var lines: [PDFText.Line] = [
            .init("Site: \(register.site) — times in \(register.timeZone)"),
            .init("Period: \(time(register.from, zone)) to \(time(register.to, zone))"),
            .init("Made: \(time(register.generatedAt, zone)) by \(register.generatedBy)"),
            .init(""),
            .init("RECORDINGS MADE (\(register.recordings.count))", heading: true),
        ]
        for item in register.recordings {
            var line = "  \(item.camera)  \(time(item.from, zone)) to \(time(item.to, zone))  \(item.state)"
            if item.segments > 0 { line += "  \(item.segments) segments, \(size(item.bytes))" }
            lines.append(.init(line))
        }
        lines += [.init(""), .init("DESTRUCTIONS (\(register.destructions.count))", heading: true)]
        for item in register.destructions {
            lines.append(
                .init("  \(time(item.destroyedAt, zone))  \(item.camera)  footage \(time(item.from, zone)) to \(time(item.to, zone))  \(item.segments) segments, \(size(item.bytes))  (\(item.reason))"))
        }
        lines += [.init(""), .init("TRANSMISSIONS TO JUDICIAL AUTHORITIES (\(register.transmissions.count))", heading: true)]
        for item in register.transmissions {
            lines.append(
                .init(
                    "  \(time(item.at, zone))  requisition \(item.requisition)  to \(item.recipient) on \(item.medium)  by \(item.by)  cameras \(item.cameras.joined(separator: ","))  footage \(time(item.from, zone)) to \(time(item.to, zone))  \(item.files) file(s), \(size(item.bytes))  manifest SHA-256 \(item.manifestSHA256)"))
        }
        return lines
    }

    public static func registerText(_ register: RegisterInfo) -> String {
        (["REGISTER OF RECORDINGS, DESTRUCTIONS AND TRANSMISSIONS (CSI R252-11)", ""] + registerLines(register).map(\.text)).joined(separator: "\n") + "\n"
    }

    /// One row a fact: kind, camera, from, to, when, count, bytes, detail (RFC 4180 quoting; UTC ISO times).
    public static func registerCSV(_ register: RegisterInfo) -> String {
        func iso(_ date: Date) -> String { date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: false)) }
        func field(_ raw: String) -> String {
            // A cell a spreadsheet would take for a formula starts with a quote (text typed by people: recipients, media, reasons).
            let text = raw.first.map { "=+-@\t\r".contains($0) } == true ? "'" + raw : raw
            return text.unicodeScalars.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" })
                ? "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : text
        }
        var rows = ["kind,camera,from,to,at,segments,bytes,detail"]
        for item in register.recordings {
            rows.append(["recording", item.camera, iso(item.from), iso(item.to), "", "\(item.segments)", "\(item.bytes)", item.state].map(field).joined(separator: ","))
        }
        for item in register.destructions {
            rows.append(
                ["destruction", item.camera, iso(item.from), iso(item.to), iso(item.destroyedAt), "\(item.segments)", "\(item.bytes)", item.reason].map(field)
                    .joined(separator: ","))
        }
        for item in register.transmissions {
            rows.append(
                ["transmission", item.cameras.joined(separator: " "), iso(item.from), iso(item.to), iso(item.at), "\(item.files)", "\(item.bytes)",
                 "requisition \(item.requisition); to \(item.recipient); medium \(item.medium); by \(item.by); manifest \(item.manifestSHA256)"].map(field)
                    .joined(separator: ","))
        }
        return rows.joined(separator: "\r\n") + "\r\n"
    }

    // MARK: Compliance report

    public static func complianceLines(_ report: ComplianceInfo) -> [PDFText.Line] {
        let zone = zone(report.timeZone)
        var lines: [PDFText.Line] = [
            .init("Site: \(report.site) — mode \(report.mode) — times in \(report.timeZone)"),
            .init("Made: \(time(report.generatedAt, zone)) by \(report.generatedBy)"),
            .init("Authorised retention: at most \(report.authorisedRetentionDays) days (CSI L252-5: at most one month)"),
            .init("Consultation outside a requisition: \(report.outsideRequisition == "refused" ? "refused" : "allowed with a typed reason, marked in the audit log")"),
        ]
        if report.singleUser {
            lines.append(.init("WARNING: no named account: single-user mode, the local Unix user may do everything (R253-3 requires designated persons)"))
        }
        let over = report.cameras.filter { $0.status == "over" }
        lines += [.init(""), .init("RETENTION PER CAMERA (\(report.cameras.count) cameras, \(over.count) over their retention)", heading: true)]
        for camera in report.cameras {
            let age = camera.oldestAgeDays.map { String(format: "%.1f days", $0) } ?? "nothing kept"
            let verdict = ["ok": "within", "held": "older, held by a requisition", "over": "OVER RETENTION, NOT HELD", "none": "-"][camera.status] ?? camera.status
            lines.append(.init("  \(camera.camera)  retention \(camera.retentionDays) days  oldest \(time(camera.oldest, zone)) (\(age))  \(verdict)"))
        }
        let orphans = report.holds.filter { $0.requisition == "none" || $0.requisition == "closed" }
        lines += [.init(""), .init("HOLDS IN FORCE (\(report.holds.count); \(orphans.count) without an open requisition)", heading: true)]
        for hold in report.holds {
            let status = hold.requisition == "none" ? "NO REQUISITION OF THAT NUMBER" : hold.requisition == "closed" ? "REQUISITION CLOSED, AWAITING RELEASE" : "requisition \(hold.requisition)"
            lines.append(
                .init(
                    "  hold \(hold.id)  \(hold.reference)  \(hold.cameras.isEmpty ? "all cameras" : hold.cameras.joined(separator: ","))  \(time(hold.from, zone)) to \(time(hold.to, zone))  by \(hold.createdBy), \(String(format: "%.1f", hold.ageDays)) days ago  \(status)"))
        }
        lines += [.init(""), .init("REQUISITIONS AND THEIR EXPORTS (\(report.requisitions.count))", heading: true)]
        for requisition in report.requisitions {
            lines.append(
                .init(
                    "  \(requisition.number)  \(requisition.status)  CPP \(requisition.basis)  \(requisition.authority)  received \(time(requisition.received, zone))  by \(requisition.createdBy)  \(requisition.transmissions.count) export(s)"))
            for export in requisition.transmissions {
                lines.append(.init("      exported \(time(export.at, zone)) by \(export.by) to \(export.recipient) on \(export.medium): \(export.files) file(s), \(size(export.bytes))"))
            }
        }
        lines += [.init(""), .init("ACCOUNTS (\(report.accounts.count))", heading: true)]
        for account in report.accounts {
            var line = "  \(account.name)  \(account.role)  cameras \(account.cameras.joined(separator: ","))  made by \(account.createdBy) on \(time(account.createdAt, zone))"
            line += "  habilitation until \(account.expires.map { time($0, zone) } ?? "no end set")  last login \(time(account.lastLogin, zone))"
            if let disabled = account.disabledAt { line += "  DISABLED \(time(disabled, zone))" }
            if let expires = account.expires, expires < report.generatedAt, account.disabledAt == nil { line += "  EXPIRED" }
            lines.append(.init(line))
        }
        lines += [.init(""), .init("FAILED LOGINS SINCE \(time(report.failedLoginsSince, zone)) (\(report.failedLogins.reduce(0) { $0 + $1.count }))", heading: true)]
        for failed in report.failedLogins { lines.append(.init("  \(failed.who)  \(failed.count) failure(s), last \(time(failed.last, zone))")) }
        lines += [.init(""), .init("AUDIT LOG", heading: true)]
        lines.append(.init("  \(report.audit.entries) entries; chain \(report.audit.valid ? "VERIFIED: whole, every signed entry's signature valid" : "BROKEN")"))
        if let sequence = report.audit.headSequence, let hash = report.audit.headHash { lines.append(.init("  head: entry \(sequence), hash \(hash)")) }
        for key in report.audit.signedBy { lines.append(.init("  signed by the recorder's key \(key)")) }
        for problem in report.audit.problems { lines.append(.init("  PROBLEM: \(problem)")) }
        for note in report.audit.notes { lines.append(.init("  note: \(note)")) }
        if let certificate = report.evidenceCertificateSHA256 { lines.append(.init("  exports signed by the certificate SHA-256 \(certificate)")) }
        return lines
    }

    public static func complianceText(_ report: ComplianceInfo) -> String {
        (["COMPLIANCE REPORT", ""] + complianceLines(report).map(\.text)).joined(separator: "\n") + "\n"
    }

    public static func complianceHTML(_ report: ComplianceInfo) -> String {
        func escape(_ text: String) -> String {
            text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
                .replacingOccurrences(of: "\"", with: "&quot;")
        }
        var body = ""
        var inList = false
        for line in complianceLines(report) {
            if line.heading {
                if inList { body += "</ul>\n" }
                body += "<h2>\(escape(line.text))</h2>\n<ul>\n"
                inList = true
            } else if line.text.isEmpty {
                continue
            } else if inList {
                let item = line.text.trimmingCharacters(in: .whitespaces)
                let alarm = item.contains("OVER RETENTION") || item.contains("NO REQUISITION") || item.contains("BROKEN") || item.contains("PROBLEM") || item.contains("EXPIRED")
                body += alarm ? "<li class=\"alarm\">\(escape(item))</li>\n" : "<li>\(escape(item))</li>\n"
            } else {
                body += "<p>\(escape(line.text))</p>\n"
            }
        }
        if inList { body += "</ul>\n" }
        return """
            <!DOCTYPE html>
            <html lang="fr"><head><meta charset="utf-8"><title>Compliance report — \(escape(report.site))</title>
            <style>body{font-family:sans-serif;max-width:60em;margin:2em auto}li{font-family:monospace;font-size:90%}.alarm{color:#a00;font-weight:bold}</style>
            </head><body><h1>Compliance report — \(escape(report.site))</h1>
            \(body)</body></html>

            """
    }
}
