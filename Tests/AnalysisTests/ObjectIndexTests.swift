import Analysis
import Foundation
import RecorderCore
import Testing

/// The object index in a real SQLite catalog: saved per segment, searched by colour, and
/// destroyed with the footage it came from; analysis refused outside an open requisition.
@Suite struct ObjectIndexTests {
    func store() throws -> (RecordingStore, URL) {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("vigie-index-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        return (try RecordingStore(root: root, access: .readWrite), root)
    }

    func passage(_ segment: Int64, _ colour: String, _ share: Double, at t: Date) -> Passage {
        Passage(
            requisition: "PV-9", camera: "gare", segmentID: segment, start: t, end: t.addingTimeInterval(5), objectClass: "car", confidence: 0.8,
            colours: [.init(name: colour, share: share), .init(name: "black", share: 1 - share)], direction: "left-to-right", box: [0.1, 0.6, 0.3, 0.75],
            descriptor: [Float](repeating: 0.1, count: Appearance.length))
    }

    @Test func theIndexIsSearchedByColourAndDiesWithItsSegment() throws {
        let (store, root) = try store()
        defer { try? FileManager.default.removeItem(at: root) }
        let t = Date(timeIntervalSince1970: 1_800_000_000)
        let first = try store.catalog.insertSegment(SegmentRecord(camera: "gare", path: "gare/a.ts", start: t, end: t.addingTimeInterval(60), state: .closed))
        let second = try store.catalog.insertSegment(SegmentRecord(camera: "gare", path: "gare/b.ts", start: t.addingTimeInterval(60), end: t.addingTimeInterval(120), state: .closed))
        try store.catalog.saveAnalysis(
            requisition: "PV-9", segmentID: first, passages: [(passage(first, "red", 0.9, at: t), Array("P6\n1 1\n255\nabc".utf8)), (passage(first, "blue", 0.8, at: t.addingTimeInterval(10)), nil)], at: t)
        try store.catalog.saveAnalysis(requisition: "PV-9", segmentID: second, passages: [(passage(second, "red", 0.5, at: t.addingTimeInterval(70)), nil)], at: t)
        #expect(try store.catalog.analysedSegments(requisition: "PV-9") == [first, second])
        let red = try store.catalog.searchPassages(PassageQuery(requisition: "PV-9", objectClass: "car", colour: "red"))
        #expect(red.map(\.segmentID) == [first, second])  // the surer first
        #expect(try store.catalog.searchPassages(PassageQuery(requisition: "PV-9", colour: "red", from: t.addingTimeInterval(65))).count == 1)
        #expect(try store.catalog.searchPassages(PassageQuery(requisition: "PV-9", colour: "red", cameras: ["quai"])).isEmpty)
        #expect(try store.catalog.searchPassages(PassageQuery(requisition: "PV-OTHER", colour: "red")).isEmpty)
        let thumbnailed = try #require(red.first)
        #expect(try store.catalog.thumbnail(passage: thumbnailed.id) != nil)
        // Dropping another requisition's index leaves this one.
        #expect(try store.catalog.dropAnalysis(requisition: "PV-OTHER") == 0)
        #expect(try store.catalog.passageCount(requisition: "PV-9") == 3)
        // The first segment's footage is destroyed: its passages, thumbnails and mark go with it.
        try store.catalog.removeSegment(id: first)
        #expect(try store.catalog.passageCount(requisition: "PV-9") == 1)
        #expect(try store.catalog.thumbnail(passage: thumbnailed.id) == nil)
        #expect(try store.catalog.searchPassages(PassageQuery(requisition: "PV-9", colour: "blue")).isEmpty)
        #expect(try store.catalog.analysedSegments(requisition: "PV-9") == [second])
        // Analysing again from the start: the index and marks are dropped.
        try store.catalog.saveAnalysis(requisition: "PV-9", segmentID: second, passages: [(passage(second, "red", 0.6, at: t.addingTimeInterval(80)), Array("P6\n1 1\n255\nabc".utf8))], at: t)
        #expect(try store.catalog.dropAnalysis(requisition: "PV-9") == 2)
        #expect(try store.catalog.passageCount(requisition: "PV-9") == 0)
        #expect(try store.catalog.analysedSegments(requisition: "PV-9").isEmpty)
        #expect(try store.catalog.searchPassages(PassageQuery(requisition: "PV-9", colour: "red")).isEmpty)
        // A segment destroyed while it was analysed saves nothing.
        try store.catalog.removeSegment(id: second)
        try store.catalog.saveAnalysis(requisition: "PV-9", segmentID: second, passages: [(passage(second, "red", 0.5, at: t), nil)], at: t)
        #expect(try store.catalog.passageCount(requisition: "PV-9") == 0)
    }

    @Test func theSubStreamIsAnalysedWhereItWasRecordedAndAStartedAnalysisStaysOnItsStream() throws {
        let (store, root) = try store()
        defer { try? FileManager.default.removeItem(at: root) }
        let t = Date(timeIntervalSince1970: 1_800_000_000)
        var ids: [String: [StreamChoice: Int64]] = [:]
        for camera in ["gare", "quai", "pont"] {
            for stream in StreamChoice.allCases where camera != "pont" || stream == .main {
                // The quai's sub stream was lost for the second half minute: it does not cover the period.
                let end = camera == "quai" && stream == .sub ? t.addingTimeInterval(30) : t.addingTimeInterval(60)
                ids[camera, default: [:]][stream] = try store.catalog.insertSegment(
                    SegmentRecord(
                        camera: camera, path: SegmentPath.make(camera: camera, start: t, stream: stream), start: t, end: end, state: .closed, stream: stream))
            }
        }
        let requisition = Requisition(
            number: "PV-SUB", authority: "OPJ", basis: .preliminary, received: t, scopes: [RequisitionScope(cameras: [], start: t, end: t.addingTimeInterval(60))],
            status: .open, createdBy: "tech", createdAt: t)
        let cameras = ["gare", "quai", "pont"]
        func chosen(_ jobs: [RequisitionAnalysis.Job]) -> [String: StreamChoice] {
            Dictionary(uniqueKeysWithValues: jobs.map { ($0.camera, $0.segments[0].0.stream) })
        }
        // The main stream by default; the sub stream where it covers the period when asked.
        #expect(chosen(try RequisitionAnalysis.plan(requisition, catalog: store.catalog, siteCameras: cameras)).values.allSatisfy { $0 == .main })
        #expect(
            chosen(try RequisitionAnalysis.plan(requisition, catalog: store.catalog, siteCameras: cameras, preferSubStream: true))
                == ["gare": .sub, "quai": .main, "pont": .main])
        // The gare's main stream analysed already: asking for the sub stream keeps it on its main one.
        let started = try RequisitionAnalysis.plan(
            requisition, catalog: store.catalog, siteCameras: cameras, analysed: [ids["gare"]![.main]!], preferSubStream: true)
        #expect(chosen(started)["gare"] == .main)
        // Its sub stream analysed: the status's plan (main by default) counts what was done.
        let resumed = try RequisitionAnalysis.plan(requisition, catalog: store.catalog, siteCameras: cameras, analysed: [ids["gare"]![.sub]!])
        #expect(chosen(resumed)["gare"] == .sub)
        #expect(try RequisitionAnalysis.plan(requisition, catalog: store.catalog, siteCameras: cameras, preferSubStream: true).allSatisfy { $0.segments.count == 1 })
    }

    @Test func analysisIsRefusedWithoutAnOpenRequisition() throws {
        let (store, root) = try store()
        defer { try? FileManager.default.removeItem(at: root) }
        guard let engine = try? InferenceEngine() else {
            // Without the engine the refusal is the engine's: search says it is disabled.
            #expect(throws: AnalysisUnavailable.self) { try InferenceEngine(files: AnalysisFiles(folder: root)) }
            return
        }
        let t = Date(timeIntervalSince1970: 1_800_000_000)
        let closed = Requisition(
            number: "PV-CLOSED", authority: "OPJ", basis: .preliminary, received: t, scopes: [RequisitionScope(cameras: ["gare"], start: t, end: t.addingTimeInterval(60))],
            status: .closed, createdBy: "tech", createdAt: t)
        let analysis = RequisitionAnalysis(store: store, engine: engine, model: AnalysisFiles().detectorModel)
        #expect(throws: AnalysisUnavailable.self) { try analysis.run(closed, siteCameras: ["gare"]) }
    }
}
