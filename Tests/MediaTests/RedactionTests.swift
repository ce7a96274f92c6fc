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
        // An '@' in the password: FFmpeg takes the last '@' of the authority, so must the mask.
        ("rtsp://admin:p@ssW0rdAt@host/Streaming/101", "rtsp://***@host/Streaming/101"),
        ("'rtsp://admin:p@ss@127.0.0.1:8554/stream'", "'rtsp://***@127.0.0.1:8554/stream'"),
        // Credentials in the query string.
        ("http://cam/video.cgi?user=admin&password=hunter2&resolution=4CIF", "http://cam/video.cgi?user=***&password=***&resolution=4CIF"),
        ("rtsp://cam/live?channel=1&PWD=x;token=abc#frag", "rtsp://cam/live?channel=1&PWD=***;token=***#frag"),
        // Headers FFmpeg logs at debug and trace levels.
        ("Sending:\nDESCRIBE rtsp://127.0.0.1:8554/stream RTSP/1.0\r\nAuthorization: Basic YWRtaW46cEBzcw==\r\nCSeq: 3\r\n",
         "Sending:\nDESCRIBE rtsp://127.0.0.1:8554/stream RTSP/1.0\r\nAuthorization: ***\r\nCSeq: 3\r\n"),
        ("authorization: Digest username=\"admin\", response=\"6629fae49393a05397450978507c4ef1\"", "authorization: ***"),
        ("Proxy-Authorization: Basic Zm9vOmJhcg==", "Proxy-Authorization: ***"),
        // '#', '?' or '/' in a password that was not percent-encoded.
        ("rtsp://admin:ab#12@10.0.0.5/live", "rtsp://***@10.0.0.5/live"),
        ("rtsp://admin:p?ss@10.0.0.5/live?channel=1", "rtsp://***@10.0.0.5/live?channel=1"),
        ("http://cam/videostream.cgi?loginuse=admin&loginpas=hunter2", "http://cam/videostream.cgi?loginuse=***&loginpas=***"),
    ])
    func redactsSecrets(input: String, expected: String) {
        #expect(Redaction.redactCredentials(in: input) == expected)
    }

    @Test func aConfiguredAddressIsRedactedAsAWhole() {
        // A blank in the password: free text would stop the address at the blank.
        #expect(Redaction.redactAddress("rtsp://admin:pass word@10.0.0.5/live") == "rtsp://***@10.0.0.5/live")
        #expect(Redaction.redactAddress("rtsp://10.0.0.5/live") == "rtsp://10.0.0.5/live")
        #expect(Redaction.redactAddress("/srv/clips/a b.mp4") == "/srv/clips/a b.mp4")
        #expect(Redaction.hasCredentials("http://cam/x?password=1"))
    }

    @Test func aLineCutShortInsideAnAddressShowsNoPartOfIt() {
        #expect(Redaction.redactCutLine("[rtsp @ 0x1] Opening 'rtsp://admin:hunt") == "[rtsp @ 0x1] Opening 'rtsp://*** (cut)")
        #expect(Redaction.redactCutLine("no address here") == "no address here")
    }

    @Test func errorsNeverCarryCredentials() {
        let error = MediaError(code: FFmpegCode.posix(111), operation: "open", source: "rtsp://admin:hunter2@10.1.1.1/s")
        #expect(!error.description.contains("hunter2"))
        #expect(error.description.contains("rtsp://***@10.1.1.1/s"))
        #expect(Redaction.hasCredentials("rtsp://a:b@h/x"))
        #expect(!Redaction.hasCredentials("rtsp://h/x"))
    }
}

/// The thumbnails' format: what the recorder serves is read back whole, and bad bytes are refused.
struct PortablePixmapTests {
    @Test func aPixmapIsReadBackAndResampled() throws {
        var image = RGBImage(width: 4, height: 2)
        for index in 0..<8 { image.pixels[index * 3] = UInt8(index * 30) }
        let bytes = PortablePixmap.encode(image)
        #expect(PortablePixmap.decode(bytes) == image)
        #expect(PortablePixmap.decode(Array("P6\n# a comment\n4 2\n255\n".utf8) + image.pixels) == image)
        #expect(PortablePixmap.decode(Array(bytes.dropLast())) == nil, "cut short")
        #expect(PortablePixmap.decode(Array("P6\n99999 2\n255\n".utf8)) == nil, "too large")
        #expect(PortablePixmap.decode(Array("P3\n1 1\n255\n0 0 0".utf8)) == nil, "not binary")
        #expect(PortablePixmap.decode(Array("P6\n1 1\n65535\n".utf8) + [0, 0, 0, 0, 0, 0]) == nil, "16 bits")
        let half = image.resampled(width: 2, height: 1)
        #expect(half.width == 2 && half.pixels[0] == UInt8((0 + 30 + 120 + 150) / 4), "each pixel the mean of what it covers")
        let double = image.resampled(width: 8, height: 4)
        #expect(double.pixel(x: 7, y: 3).r == 210)
    }
}
