import CSSL
import PipelineCore

#if canImport(Glibc)
    import Glibc
#endif

/// The https listener's certificate and key, from Connect's
/// `listeners.https.ssl.*` keys with a PEM keystore (Kafka's
/// `ssl.keystore.type=PEM`): `listeners.https.ssl.keystore.location` is a
/// PEM file with the certificate chain (server certificate first) and,
/// unless `listeners.https.ssl.key.location` names another PEM file, the
/// private key; `listeners.https.ssl.key.password` decrypts an encrypted key.
/// JKS and PKCS12 keystores are refused with a message saying how to convert.
public struct TLSSettings: Sendable, Equatable {
    public var certificateChainPath: String
    public var privateKeyPath: String
    public var keyPassword: String?

    public init(certificateChainPath: String, privateKeyPath: String? = nil, keyPassword: String? = nil) {
        self.certificateChainPath = certificateChainPath
        self.privateKeyPath = privateKeyPath ?? certificateChainPath
        self.keyPassword = keyPassword
    }

    static let keystoreKey = "listeners.https.ssl.keystore.location"
    static let keyKey = "listeners.https.ssl.key.location"

    /// An OpenSSL server context (TLS 1.2 or later) holding the certificate
    /// and the key, checked to match. Errors name the key and the file at
    /// fault, never the password.
    func makeContext() throws -> OpaquePointer {
        guard let context = SSL_CTX_new(TLS_server_method()) else {
            throw PipelineError.other("https listener: cannot create a TLS context: \(Self.opensslErrors())")
        }
        do {
            guard tributary_ssl_ctx_min_tls12(context) == 1 else {
                throw PipelineError.other("https listener: cannot require TLS 1.2: \(Self.opensslErrors())")
            }
            guard SSL_CTX_use_certificate_chain_file(context, certificateChainPath) == 1 else {
                throw PipelineError.config(
                    key: Self.keystoreKey,
                    reason: "cannot read a PEM certificate chain from \(certificateChainPath): \(Self.opensslErrors())")
            }
            try loadKey(into: context)
            guard SSL_CTX_check_private_key(context) == 1 else {
                throw PipelineError.config(
                    key: Self.keyKey, reason: "the key in \(privateKeyPath) does not match the certificate in \(certificateChainPath)")
            }
            return context
        } catch {
            SSL_CTX_free(context)
            throw error
        }
    }

    private func loadKey(into context: OpaquePointer) throws {
        // The password reaches OpenSSL's callback as a C string that lives only while the key loads.
        let password = keyPassword.map { strdup($0) } ?? nil
        defer {
            SSL_CTX_set_default_passwd_cb_userdata(context, nil)
            if let password {
                memset(password, 0, strlen(password))
                free(password)
            }
        }
        SSL_CTX_set_default_passwd_cb(context, passwordCallback)
        SSL_CTX_set_default_passwd_cb_userdata(context, password)
        guard SSL_CTX_use_PrivateKey_file(context, privateKeyPath, SSL_FILETYPE_PEM) == 1 else {
            let errors = Self.opensslErrors()
            // OpenSSL checks the key against the certificate as it loads it.
            let reason =
                errors.contains("key values mismatch")
                ? "the key in \(privateKeyPath) does not match the certificate in \(certificateChainPath)"
                : "cannot read a PEM private key from \(privateKeyPath)"
                    + (keyPassword == nil ? " (an encrypted key needs listeners.https.ssl.key.password)" : "") + ": \(errors)"
            throw PipelineError.config(key: privateKeyPath == certificateChainPath ? Self.keystoreKey : Self.keyKey, reason: reason)
        }
    }

    /// OpenSSL's queued errors, oldest first, and clears them.
    static func opensslErrors() -> String {
        var messages: [String] = []
        while case let code = ERR_get_error(), code != 0 {
            var buffer = [UInt8](repeating: 0, count: 256)
            buffer.withUnsafeMutableBufferPointer { raw in
                raw.withMemoryRebound(to: CChar.self) { ERR_error_string_n(code, $0.baseAddress, $0.count) }
            }
            messages.append(String(decoding: buffer.prefix { $0 != 0 }, as: UTF8.self))
        }
        return messages.isEmpty ? "no detail from OpenSSL" : messages.joined(separator: "; ")
    }
}

/// Hands the key password (the callback's user data) to OpenSSL.
private let passwordCallback: @convention(c) (UnsafeMutablePointer<CChar>?, Int32, Int32, UnsafeMutableRawPointer?) -> Int32 = {
    buffer, size, _, userdata in
    guard let buffer, let userdata else { return 0 }
    let password = userdata.assumingMemoryBound(to: CChar.self)
    let length = min(Int(strlen(password)), Int(size))
    memcpy(buffer, password, length)
    return Int32(length)
}
