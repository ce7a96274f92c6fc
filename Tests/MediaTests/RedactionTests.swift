import Media
import Testing

@Suite struct RedactionTests {
    @Test(arguments: [
        ("rtsp://admin:secret@10.0.0.5:554/stream1", "rtsp://***@10.0.0.5:554/stream1"),
        ("rtsp://admin@10.0.0.5/live", "rtsp://***@10.0.0.5/live"),
        ("open rtsp://u:p%40ss@cam.local/x failed", "open rtsp://***@cam.local/x failed"),
        ("rtsp://user:pa/ss@host/path", "rtsp://***@host/path"),
        ("http://host/a@b.jpg", "http://host/a@b.jpg"),
        ("rtsp://127.0.0.1:8554/cam0", "rtsp://127.0.0.1:8554/cam0"),
        ("two: rtsp://a:b@h1/x and http://c:d@h2/y", "two: rtsp://***@h1/x and http://***@h2/y"),
        ("no url here", "no url here"),
    ])
    func redactsUserInformation(input: String, expected: String) {
        #expect(Redaction.redactCredentials(in: input) == expected)
    }

    @Test func errorsNeverCarryCredentials() {
        let error = MediaError(code: FFmpegCode.posix(111), operation: "open", source: "rtsp://admin:hunter2@10.1.1.1/s")
        #expect(!error.description.contains("hunter2"))
        #expect(error.description.contains("rtsp://***@10.1.1.1/s"))
        #expect(Redaction.hasCredentials("rtsp://a:b@h/x"))
        #expect(!Redaction.hasCredentials("rtsp://h/x"))
    }
}
