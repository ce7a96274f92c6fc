import Media
import NIOCore
import NIOEmbedded
import NIOWebSocket
import RecorderAPI
import Testing

@testable import Server

/// The relay's packets, encoded once as whole WebSocket frames and written below the
/// pipeline's frame encoder: what a standard WebSocket decoder reads from them, at each of
/// the protocol's three length encodings, and in order with the frames the encoder writes.
struct RelayedPacketTests {
    static func packet(size: Int, keyframe: Bool) -> Packet {
        let payload = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        return payload.withUnsafeBytes {
            Packet(payload: $0, pts: 9000, dts: 8000, duration: 3600, isKeyframe: keyframe, timeBase: Rational(1, 90000))!
        }
    }

    static func decode(_ bytes: ByteBuffer) throws -> [WebSocketFrame] {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(WebSocketFrameDecoder(maxFrameSize: 1 << 20)))
        try channel.writeInbound(bytes)
        var frames: [WebSocketFrame] = []
        while let frame = try channel.readInbound(as: WebSocketFrame.self) { frames.append(frame) }
        _ = try channel.finish()
        return frames
    }

    @Test(arguments: [
        (1, false), (125 - LivePacketHeader.size, false), (126 - LivePacketHeader.size, true),
        (0xFFFF - LivePacketHeader.size, false), (0x10000 - LivePacketHeader.size, true), (300_000, true),
    ])
    func aRelayedPacketIsOneStandardBinaryFrame(size: Int, keyframe: Bool) throws {
        let packet = Self.packet(size: size, keyframe: keyframe)
        let relayed = RelayedPacket(packet, receivedAt: 12.5)
        #expect(relayed.isKeyframe == keyframe)
        let frames = try Self.decode(relayed.wire)
        try #require(frames.count == 1)
        let frame = frames[0]
        #expect(frame.fin && frame.opcode == .binary && frame.maskKey == nil)
        #expect(frame.data.readableBytes == LivePacketHeader.size + size)
        let header = frame.data.withUnsafeReadableBytes { LivePacketHeader.parse($0) }
        #expect(header == LivePacketHeader(isKeyframe: keyframe, pts: 9000, dts: 8000, duration: 3600, receivedMicros: 12_500_000))
        let payload = frame.data.getBytes(at: frame.data.readerIndex + LivePacketHeader.size, length: size)
        #expect(payload == packet.withPayload { Array($0) })
    }

    @Test func preEncodedFramesGoOutInOrderWithTheEncodersOwn() throws {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(WebSocketFrameEncoder())
        let viewer = LiveViewer(channel: channel)
        try viewer.addWriter()
        var text = channel.allocator.buffer(capacity: 16)
        text.writeString("{\"type\":\"stream\"}")
        try channel.writeAndFlush(WebSocketFrame(fin: true, opcode: .text, data: text)).wait()
        viewer.deliver(RelayedPacket(Self.packet(size: 5000, keyframe: true), receivedAt: 1))
        viewer.deliver(RelayedPacket(Self.packet(size: 40, keyframe: false), receivedAt: 2))
        var wire = channel.allocator.buffer(capacity: 8192)
        while var part = try channel.readOutbound(as: ByteBuffer.self) { wire.writeBuffer(&part) }
        let frames = try Self.decode(wire)
        #expect(frames.map(\.opcode) == [.text, .binary, .binary])
        #expect(frames.map(\.data.readableBytes) == [text.readableBytes, LivePacketHeader.size + 5000, LivePacketHeader.size + 40])
        _ = try channel.finish()
    }
}
