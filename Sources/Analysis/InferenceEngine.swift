public import Foundation
import COpenVINO

#if canImport(Glibc)
    import Glibc
#endif

/// Why analysis cannot run here, said to the technician as it is.
public struct AnalysisUnavailable: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Where the analysis engine and its models live: the folder scripts/install-analysis
/// fills ($VIGIE_ANALYSIS, else $XDG_DATA_HOME/vigie/analysis, else ~/.local/share/vigie/analysis):
/// `openvino/libs/libopenvino_c.so*` (the `openvino` wheel) and `models/` (the detector,
/// converted from Darknet at install time, and its description).
public struct AnalysisFiles: Sendable {
    public let folder: URL

    public init(folder: URL? = nil) {
        self.folder = folder ?? AnalysisFiles.defaultFolder()
    }

    public static func defaultFolder() -> URL {
        let environment = ProcessInfo.processInfo.environment
        if let base = environment["VIGIE_ANALYSIS"], !base.isEmpty { return URL(fileURLWithPath: base) }
        if let base = environment["XDG_DATA_HOME"], !base.isEmpty {
            return URL(fileURLWithPath: base).appendingPathComponent("vigie/analysis")
        }
        return FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".local/share/vigie/analysis")
    }

    /// The detector's model: `models/detector.xml` (OpenVINO IR) and `models/detector.json`.
    public var detectorModel: URL { folder.appendingPathComponent("models/detector.xml") }

    /// The engine's C library, when installed.
    public func engineLibrary() -> URL? {
        let libs = folder.appendingPathComponent("openvino/libs")
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: libs.path) else { return nil }
        return names.filter { $0.hasPrefix("libopenvino_c.so") }.sorted().first.map { libs.appendingPathComponent($0) }
    }
}

/// OpenVINO's runtime, opened at run time from its C library. One per process: the
/// library stays loaded; networks compiled from it are used by one thread each.
public final class InferenceEngine: @unchecked Sendable {  // immutable after init; OpenVINO's core is thread-safe
    let api: API
    private let core: OpaquePointer
    public let version: String
    public let library: URL

    struct API {
        let coreCreate: vigie_ov_core_create
        let coreFree: vigie_ov_core_free
        let readModel: vigie_ov_core_read_model
        let modelFree: vigie_ov_model_free
        let reshape: vigie_ov_model_reshape_single_input
        let partialShapeStatic: vigie_ov_partial_shape_create_static
        let partialShapeFree: vigie_ov_partial_shape_free
        let compile: vigie_ov_core_compile_model_props
        let compiledFree: vigie_ov_compiled_model_free
        let outputsSize: vigie_ov_compiled_model_outputs_size
        let createRequest: vigie_ov_compiled_model_create_infer_request
        let requestFree: vigie_ov_infer_request_free
        let setInput: vigie_ov_infer_request_set_input_tensor_by_index
        let getOutput: vigie_ov_infer_request_get_output_tensor_by_index
        let infer: vigie_ov_infer_request_infer
        let shapeCreate: vigie_ov_shape_create
        let shapeFree: vigie_ov_shape_free
        let tensorFromHost: vigie_ov_tensor_create_from_host_ptr
        let tensorShape: vigie_ov_tensor_get_shape
        let tensorData: vigie_ov_tensor_data
        let tensorFree: vigie_ov_tensor_free
        let lastError: vigie_ov_get_last_err_msg
        let version: vigie_ov_get_openvino_version
        let versionFree: vigie_ov_version_free
        let numThreadsKey: UnsafePointer<CChar>
    }

    /// Opens the engine installed in `files`; throws what is missing.
    public init(files: AnalysisFiles = AnalysisFiles()) throws(AnalysisUnavailable) {
        guard let library = files.engineLibrary() else {
            throw AnalysisUnavailable(
                "the analysis engine (OpenVINO) is not installed in \(files.folder.path): run scripts/install-analysis (make test and make demo do)")
        }
        // The library finds its plugins and libopenvino beside itself.
        guard let handle = dlopen(library.path, RTLD_NOW | RTLD_LOCAL) else {
            throw AnalysisUnavailable("cannot load \(library.path): \(String(cString: dlerror()))")
        }
        func symbol<T>(_ name: String, _: T.Type) throws(AnalysisUnavailable) -> T {
            guard let address = dlsym(handle, name) else {
                throw AnalysisUnavailable("\(library.lastPathComponent) has no \(name): OpenVINO 2024 or later is needed")
            }
            return unsafeBitCast(address, to: T.self)
        }
        let keyAddress = try symbol("ov_property_key_inference_num_threads", UnsafeRawPointer.self)
        api = API(
            coreCreate: try symbol("ov_core_create", vigie_ov_core_create.self),
            coreFree: try symbol("ov_core_free", vigie_ov_core_free.self),
            readModel: try symbol("ov_core_read_model", vigie_ov_core_read_model.self),
            modelFree: try symbol("ov_model_free", vigie_ov_model_free.self),
            reshape: try symbol("ov_model_reshape_single_input", vigie_ov_model_reshape_single_input.self),
            partialShapeStatic: try symbol("ov_partial_shape_create_static", vigie_ov_partial_shape_create_static.self),
            partialShapeFree: try symbol("ov_partial_shape_free", vigie_ov_partial_shape_free.self),
            compile: try symbol("ov_core_compile_model_props", vigie_ov_core_compile_model_props.self),
            compiledFree: try symbol("ov_compiled_model_free", vigie_ov_compiled_model_free.self),
            outputsSize: try symbol("ov_compiled_model_outputs_size", vigie_ov_compiled_model_outputs_size.self),
            createRequest: try symbol("ov_compiled_model_create_infer_request", vigie_ov_compiled_model_create_infer_request.self),
            requestFree: try symbol("ov_infer_request_free", vigie_ov_infer_request_free.self),
            setInput: try symbol("ov_infer_request_set_input_tensor_by_index", vigie_ov_infer_request_set_input_tensor_by_index.self),
            getOutput: try symbol("ov_infer_request_get_output_tensor_by_index", vigie_ov_infer_request_get_output_tensor_by_index.self),
            infer: try symbol("ov_infer_request_infer", vigie_ov_infer_request_infer.self),
            shapeCreate: try symbol("ov_shape_create", vigie_ov_shape_create.self),
            shapeFree: try symbol("ov_shape_free", vigie_ov_shape_free.self),
            tensorFromHost: try symbol("ov_tensor_create_from_host_ptr", vigie_ov_tensor_create_from_host_ptr.self),
            tensorShape: try symbol("ov_tensor_get_shape", vigie_ov_tensor_get_shape.self),
            tensorData: try symbol("ov_tensor_data", vigie_ov_tensor_data.self),
            tensorFree: try symbol("ov_tensor_free", vigie_ov_tensor_free.self),
            lastError: try symbol("ov_get_last_err_msg", vigie_ov_get_last_err_msg.self),
            version: try symbol("ov_get_openvino_version", vigie_ov_get_openvino_version.self),
            versionFree: try symbol("ov_version_free", vigie_ov_version_free.self),
            numThreadsKey: keyAddress.load(as: UnsafePointer<CChar>.self))
        var created: OpaquePointer?
        guard api.coreCreate(&created) == 0, let created else {
            throw AnalysisUnavailable("OpenVINO could not start: \(api.lastError().map { String(cString: $0) } ?? "unknown error")")
        }
        core = created
        var info = ov_version_t()
        if api.version(&info) == 0, let number = info.buildNumber {
            version = String(cString: number)
            api.versionFree(&info)
        } else {
            version = "unknown"
        }
        self.library = library
    }

    deinit { api.coreFree(core) }

    func failure(_ what: String) -> AnalysisUnavailable {
        AnalysisUnavailable("\(what): \(api.lastError().map { String(cString: $0) } ?? "unknown error")")
    }

    /// Reads an IR model, fixes its input to `shape` (NCHW) and compiles it for the CPU on
    /// `threads` threads (one: analysis runs a camera per core).
    public func network(model: URL, inputShape shape: [Int], threads: Int = 1) throws(AnalysisUnavailable) -> Network {
        guard FileManager.default.fileExists(atPath: model.path) else {
            throw AnalysisUnavailable("no detector model at \(model.path): run scripts/install-analysis")
        }
        var read: OpaquePointer?
        let weights = model.deletingPathExtension().appendingPathExtension("bin").path
        guard api.readModel(core, model.path, weights, &read) == 0, let read else { throw failure("cannot read \(model.path)") }
        defer { api.modelFree(read) }
        var dims = shape.map(Int64.init)
        var partial = ov_partial_shape_t()
        guard api.partialShapeStatic(Int64(dims.count), &dims, &partial) == 0 else { throw failure("shape") }
        defer { api.partialShapeFree(&partial) }
        guard api.reshape(read, partial) == 0 else { throw failure("\(model.lastPathComponent) does not take an input of \(shape)") }
        var compiled: OpaquePointer?
        let status = "\(threads)".withCString { value in
            var property = ov_property_t(key: api.numThreadsKey, value: UnsafeRawPointer(value))
            return api.compile(core, read, "CPU", 1, &property, &compiled)
        }
        guard status == 0, let compiled else { throw failure("cannot compile \(model.lastPathComponent) for the CPU") }
        return try Network(engine: self, compiled: compiled, inputShape: shape)
    }
}

/// One compiled network and its inference request: used by one thread at a time. Owns
/// both OpenVINO objects and frees them; the input buffer is its own too.
public final class Network {
    let engine: InferenceEngine
    private let compiled: OpaquePointer
    private let request: OpaquePointer
    private var inputTensor: OpaquePointer
    public let inputShape: [Int]
    /// The input, NCHW floats, written by the caller before `infer()`.
    public private(set) var input: UnsafeMutableBufferPointer<Float>
    public let outputCount: Int

    init(engine: InferenceEngine, compiled: OpaquePointer, inputShape: [Int]) throws(AnalysisUnavailable) {
        self.engine = engine
        self.compiled = compiled
        self.inputShape = inputShape
        let api = engine.api
        var request: OpaquePointer?
        guard api.createRequest(compiled, &request) == 0, let request else {
            api.compiledFree(compiled)
            throw engine.failure("cannot make an inference request")
        }
        self.request = request
        var count = 0
        _ = api.outputsSize(compiled, &count)
        outputCount = count
        let elements = inputShape.reduce(1, *)
        input = .allocate(capacity: elements)
        input.initialize(repeating: 0)
        var dims = inputShape.map(Int64.init)
        var shape = ov_shape_t()
        var tensor: OpaquePointer?
        guard api.shapeCreate(Int64(dims.count), &dims, &shape) == 0 else {
            input.deallocate(); api.requestFree(request); api.compiledFree(compiled)
            throw engine.failure("shape")
        }
        let made = api.tensorFromHost(Int32(vigie_ov_f32), shape, UnsafeMutableRawPointer(input.baseAddress!), &tensor)
        _ = api.shapeFree(&shape)
        guard made == 0, let tensor, api.setInput(request, 0, tensor) == 0 else {
            input.deallocate(); api.requestFree(request); api.compiledFree(compiled)
            throw engine.failure("cannot set the network's input")
        }
        inputTensor = tensor
    }

    deinit {
        let api = engine.api
        api.tensorFree(inputTensor)
        api.requestFree(request)
        api.compiledFree(compiled)
        input.deallocate()
    }

    /// One output of the last inference: its shape and a copy of its values.
    public struct Output: Sendable {
        public let shape: [Int]
        public let values: [Float]
    }

    /// Runs the network on `input`.
    public func infer() throws(AnalysisUnavailable) -> [Output] {
        let api = engine.api
        guard api.infer(request) == 0 else { throw engine.failure("inference failed") }
        var outputs: [Output] = []
        for index in 0..<outputCount {
            var tensor: OpaquePointer?
            guard api.getOutput(request, index, &tensor) == 0, let tensor else { throw engine.failure("no output \(index)") }
            defer { api.tensorFree(tensor) }
            var shape = ov_shape_t()
            guard api.tensorShape(tensor, &shape) == 0 else { throw engine.failure("output shape") }
            let dims = (0..<Int(shape.rank)).map { Int(shape.dims[$0]) }
            _ = api.shapeFree(&shape)
            var data: UnsafeMutableRawPointer?
            guard api.tensorData(tensor, &data) == 0, let data else { throw engine.failure("output data") }
            let count = dims.reduce(1, *)
            let values = Array(UnsafeBufferPointer(start: data.assumingMemoryBound(to: Float.self), count: count))
            outputs.append(Output(shape: dims, values: values))
        }
        return outputs
    }
}
