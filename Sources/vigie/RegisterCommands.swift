import ArgumentParser
import Evidence
import Foundation
import RecorderAPI
import RecorderCore

/// Writes a report to standard output: text as it is, PDF through a temporary file.
func emit(text: String?, pdfTitle: String, footer: String, lines: [PDFText.Line], format: String) throws {
    if format == "pdf" {
        if isatty(STDOUT_FILENO) != 0 {
            printError("vigie: a PDF goes to a file or a pipe: add `> report.pdf`")
            throw ExitCode(64)
        }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("vigie-\(UUID().uuidString).pdf").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try PDFText.write(title: pdfTitle, footer: footer, lines: lines, to: path)
        FileHandle.standardOutput.write(try Data(contentsOf: URL(fileURLWithPath: path)))
    } else if let text {
        // Text from the catalog never reaches a terminal raw: each line escaped, its line ends kept.
        // (By code points: "\r\n" is one Character to Swift.)
        let lines = text.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false).map { scalars in
            scalars.last == "\r"
                ? TerminalText.escaped(String(String.UnicodeScalarView(scalars.dropLast()))) + "\r" : TerminalText.escaped(String(String.UnicodeScalarView(scalars)))
        }
        FileHandle.standardOutput.write(Data(lines.joined(separator: "\n").utf8))
    }
}

struct RegisterCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "register", abstract: "The register (CSI R252-11): recordings made, destructions, transmissions to judicial authorities.",
        discussion: "To standard output. Supervisors and auditors. Default period: the last 31 days.")

    @OptionGroup var storageOptions: StorageOptions
    @OptionGroup var remote: ServiceOptions
    @Option(help: "From (local time).") var from: String?
    @Option(help: "To (local time; default now).") var to: String?
    @Option(help: "text, csv or pdf.") var format = "text"

    func validate() throws {
        if !["text", "csv", "pdf"].contains(format) { throw ValidationError("--format is text, csv or pdf") }
    }

    func run() throws {
        let (service, zone) = try remote.connect(storageOptions, access: .readOnly)
        let end = try to.map { try parseLocal($0, zone, option: "--to") } ?? Date()
        let start = try from.map { try parseLocal($0, zone, option: "--from") } ?? end.addingTimeInterval(-31 * 86_400)
        guard end > start else { throw ValidationError("--to must be after --from") }
        let register = try check("vigie register") { () throws(ServiceError) in try service.register(from: start, to: end) }
        try emit(
            text: format == "csv" ? Reports.registerCSV(register) : Reports.registerText(register),
            pdfTitle: "Register of recordings, destructions and transmissions — \(register.site)",
            footer: "Vigie, made \(LocalTime.format(register.generatedAt, timeZone: zone, offset: true)) by \(register.generatedBy)",
            lines: Reports.registerLines(register), format: format)
    }
}

struct ComplianceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compliance", abstract: "What the prefecture's commission or the CNIL is handed.", subcommands: [ComplianceReport.self])
}

struct ComplianceReport: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "The compliance report: retention per camera, holds and their requisitions, exports, accounts, failed logins, the audit chain's check.",
        discussion: "To standard output. Supervisors and auditors.")

    @OptionGroup var storageOptions: StorageOptions
    @OptionGroup var remote: ServiceOptions
    @Option(help: "text, html or pdf.") var format = "text"

    func validate() throws {
        if !["text", "html", "pdf"].contains(format) { throw ValidationError("--format is text, html or pdf") }
    }

    func run() throws {
        let (service, zone) = try remote.connect(storageOptions, access: .readOnly)
        let report = try check("vigie compliance report") { () throws(ServiceError) in try service.compliance() }
        try emit(
            text: format == "html" ? Reports.complianceHTML(report) : Reports.complianceText(report), pdfTitle: "Compliance report — \(report.site)",
            footer: "Vigie, made \(LocalTime.format(report.generatedAt, timeZone: zone, offset: true)) by \(report.generatedBy)",
            lines: Reports.complianceLines(report), format: format)
        if !report.audit.valid || report.cameras.contains(where: { $0.status == "over" }) { throw ExitCode(1) }
    }
}
