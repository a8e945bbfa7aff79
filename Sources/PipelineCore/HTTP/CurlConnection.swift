import Foundation
import CCurl

/// Timeouts for one transfer.
package struct TransferLimits: Sendable {
    package var connectTimeoutMilliseconds: Int
    package var totalTimeoutMilliseconds: Int
    /// A transfer slower than 1 byte/s for this long is aborted as stalled.
    package var stallSeconds: Int

    package init(connectTimeoutMilliseconds: Int, totalTimeoutMilliseconds: Int, stallSeconds: Int) {
        self.connectTimeoutMilliseconds = connectTimeoutMilliseconds
        self.totalTimeoutMilliseconds = totalTimeoutMilliseconds
        self.stallSeconds = stallSeconds
    }
}

/// One CURL easy handle, used only from its client's `BlockingWorker` thread
/// (the S3 client's, the schema registry client's).
///
/// The handle is kept for the life of the client and `curl_easy_reset`
/// between requests, which keeps its connection cache: consecutive requests
/// to the same host reuse the TCP (and TLS) connection.
package final class CurlConnection: @unchecked Sendable {
    // @unchecked: the handle is only used inside jobs of one BlockingWorker,
    // which runs them one at a time on its thread.
    private static let globalInit: Bool = {
        // curl_global_init is not thread-safe and must run once per process;
        // a static let is initialised exactly once, under a lock.
        curl_global_init(Int(CURL_GLOBAL_ALL)) == CURLE_OK
    }()

    private let handle: UnsafeMutableRawPointer?
    private var errorBuffer = [CChar](repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)

    package init() {
        handle = Self.globalInit ? curl_easy_init() : nil
    }

    deinit {
        if let handle { curl_easy_cleanup(handle) }
    }

    /// Performs `request`, blocking the calling thread until it completes.
    package func perform(_ request: HTTPClientRequest, limits: TransferLimits) throws(TransportFailure) -> HTTPClientResponse {
        guard let handle else {
            throw TransportFailure(code: -1, message: "libcurl could not be initialised", isTransient: false)
        }
        curl_easy_reset(handle)
        let transfer = TransferState()
        let context = Unmanaged.passUnretained(transfer).toOpaque()

        var headerList: UnsafeMutablePointer<curl_slist>? = nil
        for field in request.headers {
            headerList = curl_slist_append(headerList, "\(field.name): \(field.value)")
        }
        // Never wait for "100 Continue": S3, moto and registries answer errors directly.
        headerList = curl_slist_append(headerList, "Expect:")
        if !request.headers.contains(where: { $0.name.lowercased() == "content-type" }) {
            // A body sent with POSTFIELDS would otherwise be labelled
            // application/x-www-form-urlencoded by curl.
            headerList = curl_slist_append(headerList, "Content-Type:")
        }
        defer { curl_slist_free_all(headerList) }

        errorBuffer.withUnsafeMutableBytes { buffer in
            buffer.initializeMemory(as: UInt8.self, repeating: 0)
            _ = tributary_curl_setopt_pointer(handle, CURLOPT_ERRORBUFFER, buffer.baseAddress)
        }
        _ = tributary_curl_setopt_string(handle, CURLOPT_URL, request.url)
        // Send the signed path byte for byte: no dot-segment squashing.
        _ = tributary_curl_setopt_long(handle, CURLOPT_PATH_AS_IS, 1)
        // No SIGALRM-based timeouts: they are unsafe in a threaded process.
        _ = tributary_curl_setopt_long(handle, CURLOPT_NOSIGNAL, 1)
        _ = tributary_curl_setopt_long(handle, CURLOPT_TCP_KEEPALIVE, 1)
        _ = tributary_curl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, limits.connectTimeoutMilliseconds)
        _ = tributary_curl_setopt_long(handle, CURLOPT_TIMEOUT_MS, limits.totalTimeoutMilliseconds)
        _ = tributary_curl_setopt_long(handle, CURLOPT_LOW_SPEED_LIMIT, 1)
        _ = tributary_curl_setopt_long(handle, CURLOPT_LOW_SPEED_TIME, limits.stallSeconds)
        _ = tributary_curl_setopt_slist(handle, CURLOPT_HTTPHEADER, headerList)
        _ = tributary_curl_setopt_data_callback(handle, CURLOPT_WRITEFUNCTION, curlWriteBody)
        _ = tributary_curl_setopt_pointer(handle, CURLOPT_WRITEDATA, context)
        _ = tributary_curl_setopt_data_callback(handle, CURLOPT_HEADERFUNCTION, curlWriteHeader)
        _ = tributary_curl_setopt_pointer(handle, CURLOPT_HEADERDATA, context)

        let code: CURLcode = request.body.withUnsafeBytes { body in
            switch request.method {
            case "GET":
                _ = tributary_curl_setopt_long(handle, CURLOPT_HTTPGET, 1)
            case "HEAD":
                _ = tributary_curl_setopt_long(handle, CURLOPT_NOBODY, 1)
            case "PUT", "POST":
                // POSTFIELDS sends the buffer in place (no copy) with an exact
                // Content-Length; CUSTOMREQUEST turns the POST into a PUT.
                _ = tributary_curl_setopt_off_t(handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.count))
                _ = tributary_curl_setopt_pointer(
                    handle, CURLOPT_POSTFIELDS, UnsafeMutableRawPointer(mutating: body.baseAddress ?? UnsafeRawPointer(emptyBody)))
                _ = tributary_curl_setopt_string(handle, CURLOPT_CUSTOMREQUEST, request.method)
            default:
                _ = tributary_curl_setopt_string(handle, CURLOPT_CUSTOMREQUEST, request.method)
            }
            return withExtendedLifetime(transfer) { curl_easy_perform(handle) }
        }

        guard code == CURLE_OK else {
            let detail = errorBuffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
            let message = detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail
            throw TransportFailure(
                code: Int(code.rawValue), message: message, isTransient: Self.isTransient(code))
        }
        var status = 0
        _ = tributary_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        return HTTPClientResponse(status: status, headers: transfer.headers, body: transfer.body)
    }

    /// Faults worth another attempt: the server or the network may recover.
    package static func isTransient(_ code: CURLcode) -> Bool {
        switch code {
        case CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_CONNECT, CURLE_OPERATION_TIMEDOUT,
            CURLE_SEND_ERROR, CURLE_RECV_ERROR, CURLE_GOT_NOTHING, CURLE_PARTIAL_FILE,
            CURLE_SSL_CONNECT_ERROR, CURLE_HTTP2, CURLE_HTTP2_STREAM, CURLE_WEIRD_SERVER_REPLY:
            return true
        default:
            return false
        }
    }
}

/// A non-null pointer for an empty body (POSTFIELDS must not be NULL with size 0).
private nonisolated(unsafe) let emptyBody = UnsafeMutableRawPointer.allocate(byteCount: 1, alignment: 1)

/// Collects one response; reached from C callbacks through an opaque pointer.
private final class TransferState {
    var headers: [String: String] = [:]
    var body: [UInt8] = []
}

private func curlWriteBody(
    _ data: UnsafeMutablePointer<CChar>?, _ size: Int, _ count: Int, _ context: UnsafeMutableRawPointer?
) -> Int {
    let length = size * count
    guard let data, let context, length > 0 else { return length }
    let transfer = Unmanaged<TransferState>.fromOpaque(context).takeUnretainedValue()
    data.withMemoryRebound(to: UInt8.self, capacity: length) { bytes in
        transfer.body.append(contentsOf: UnsafeBufferPointer(start: bytes, count: length))
    }
    return length
}

private func curlWriteHeader(
    _ data: UnsafeMutablePointer<CChar>?, _ size: Int, _ count: Int, _ context: UnsafeMutableRawPointer?
) -> Int {
    let length = size * count
    guard let data, let context, length > 0 else { return length }
    let transfer = Unmanaged<TransferState>.fromOpaque(context).takeUnretainedValue()
    let line = data.withMemoryRebound(to: UInt8.self, capacity: length) { bytes in
        String(decoding: UnsafeBufferPointer(start: bytes, count: length), as: UTF8.self)
    }
    if line.hasPrefix("HTTP/") {
        // A new status line (after "100 Continue" or a redirect) starts a
        // new header block; keep only the final response's headers.
        transfer.headers = [:]
    } else if let colon = line.firstIndex(of: ":") {
        let name = line[..<colon].lowercased()
        let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespacesAndNewlines)
        transfer.headers[name] = value
    }
    return length
}
