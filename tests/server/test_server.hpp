#pragma once
// Starts the real hgrpcd on an ephemeral 127.0.0.1 port (--port 0; the port
// is read from its "listening on 127.0.0.1:PORT" line) and always stops it:
// SIGTERM, then SIGKILL if it does not exit within the bound. Its stderr (the
// access log) goes to an unlinked-on-destruction file the test can read.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include <httplib.h>

#include "framing/bytes.hpp"
#include "framing/cbor.hpp"
#include "framing/client_reactor.hpp"
#include "framing/frame_reader.hpp"
#include "tests/server/command_support.hpp"  // bin, str

namespace hgrpc::server::testing {

using framing::Bytes;
using framing::ByteView;
using framing::json;

inline constexpr const char* kMedia = "application/mercurial-exp-framing-0006";
inline const std::string kApi = "/api/exp-http-v2-0003";

class TestServer {
 public:
  explicit TestServer(std::vector<std::string> args = {}) {
    // A server that answers early (413) and closes must not kill the test
    // process through a write on the closed socket.
    ::signal(SIGPIPE, SIG_IGN);
    char log_path[] = "/tmp/hgrpcd-test-log-XXXXXX";
    const int log_fd = ::mkstemp(log_path);
    if (log_fd < 0) throw std::runtime_error("mkstemp failed");
    log_path_ = log_path;
    int out[2];
    if (::pipe2(out, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
    std::vector<std::string> argv{binary(), "--port", "0", "--listen", "127.0.0.1"};
    argv.insert(argv.end(), args.begin(), args.end());
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
      ::dup2(out[1], 1);
      ::dup2(log_fd, 2);
      std::vector<char*> cargv;
      for (auto& a : argv) cargv.push_back(a.data());
      cargv.push_back(nullptr);
      ::execv(cargv[0], cargv.data());
      ::_exit(127);
    }
    ::close(out[1]);
    ::close(log_fd);
    stdout_fd_ = out[0];
    const std::string line = read_line(std::chrono::seconds(20));
    const auto colon = line.rfind(':');
    if (line.rfind("listening on ", 0) != 0 || colon == std::string::npos) {
      stop(SIGKILL);
      const std::string message = "hgrpcd did not start: '" + line + "' log: " + log();
      ::close(stdout_fd_);
      ::unlink(log_path_.c_str());
      throw std::runtime_error(message);
    }
    port_ = std::stoi(line.substr(colon + 1));
  }

  ~TestServer() {
    stop(SIGTERM);
    if (stdout_fd_ >= 0) ::close(stdout_fd_);
    ::unlink(log_path_.c_str());
  }
  TestServer(const TestServer&) = delete;
  TestServer& operator=(const TestServer&) = delete;

  static std::string binary() { return std::string(HGRPC_BINARY_DIR) + "/server/hgrpcd"; }

  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  bool running() const { return pid_ > 0; }

  httplib::Client client() const {
    httplib::Client c("127.0.0.1", port_);
    c.set_connection_timeout(10);
    c.set_read_timeout(60);
    c.set_write_timeout(60);
    return c;
  }

  std::string log() const {
    std::ifstream in(log_path_);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

  // Sends sig and waits (bounded) for the exit; SIGKILL after the bound.
  // Returns the exit status (-1 when killed or not running).
  int stop(int sig = SIGTERM, std::chrono::seconds bound = std::chrono::seconds(20)) {
    if (pid_ <= 0) return exit_code_;
    ::kill(pid_, sig);
    const auto deadline = std::chrono::steady_clock::now() + bound;
    int status = 0;
    for (;;) {
      const pid_t r = ::waitpid(pid_, &status, WNOHANG);
      if (r == pid_) break;
      if (std::chrono::steady_clock::now() > deadline) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &status, 0);
        pid_ = -1;
        return exit_code_ = -1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    pid_ = -1;
    exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return exit_code_;
  }

  // Peak resident memory (VmHWM) and current (VmRSS) in KiB.
  std::optional<long> status_kib(const std::string& key) const {
    std::ifstream in("/proc/" + std::to_string(pid_) + "/status");
    std::string line;
    while (std::getline(in, line)) {
      if (line.rfind(key + ":", 0) == 0) return std::stol(line.substr(key.size() + 1));
    }
    return std::nullopt;
  }

 private:
  std::string read_line(std::chrono::seconds bound) {
    std::string line;
    const auto deadline = std::chrono::steady_clock::now() + bound;
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd p{stdout_fd_, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      char c;
      if (::read(stdout_fd_, &c, 1) != 1) break;
      if (c == '\n') return line;
      line += c;
    }
    return line;
  }

  pid_t pid_ = -1;
  int port_ = 0;
  int stdout_fd_ = -1;
  int exit_code_ = -1;
  std::string log_path_;
};

inline httplib::Headers framing_headers() { return {{"Accept", kMedia}}; }

struct Reply {
  int status = 0;
  std::string content_type;
  std::string body;
  httplib::Headers headers;
};

inline Reply post(httplib::Client& c, const std::string& path, const Bytes& body,
                  httplib::Headers headers = framing_headers(), const char* content_type = kMedia) {
  auto r = c.Post(path.c_str(), headers, std::string(framing::as_chars(body)), content_type);
  if (!r) throw std::runtime_error("POST " + path + " failed: " + httplib::to_string(r.error()));
  return {r->status, r->get_header_value("Content-Type"), r->body, r->headers};
}

// A response body decoded by our client reactor.
struct Decoded {
  std::map<std::uint16_t, std::vector<json>> values;  // ok responses
  std::map<std::uint16_t, json> command_errors;       // {status: error} maps
  std::map<std::uint16_t, std::pair<std::string, json>> error_responses;  // type, message
  std::vector<std::uint16_t> ended;                   // ResponseEnd order
  std::optional<std::string> protocol_error;
  std::vector<framing::FrameHeader> frames;
};

inline Decoded decode(framing::ClientReactor& reactor, ByteView body) {
  Decoded d;
  framing::FrameReader reader(0xFFFFFF);
  reader.feed(body);
  const auto take = [&](std::vector<framing::ClientEvent> events) {
    for (auto& ev : events) {
      if (auto* v = std::get_if<framing::ResponseValue>(&ev)) d.values[v->request_id].push_back(v->value);
      if (auto* e = std::get_if<framing::ResponseEnd>(&ev)) d.ended.push_back(e->request_id);
      if (auto* ce = std::get_if<framing::CommandError>(&ev)) d.command_errors[ce->request_id] = ce->error;
      if (auto* er = std::get_if<framing::ErrorResponse>(&ev))
        d.error_responses[er->request_id] = {er->type, er->message};
      if (auto* pe = std::get_if<framing::ProtocolError>(&ev))
        if (!d.protocol_error) d.protocol_error = pe->message;
    }
  };
  for (;;) {
    auto f = reader.next();
    if (!f) {
      d.protocol_error = f.error().message;
      return d;
    }
    if (!*f) break;
    d.frames.push_back((*f)->header);
    take(reactor.on_frame(**f));
  }
  if (auto r = reader.finish(); !r) d.protocol_error = r.error().message;
  if (auto e = reactor.on_input_end(); e && !d.protocol_error) d.protocol_error = e->message;
  return d;
}

// One request of `name` with args through a fresh client reactor.
struct Call {
  framing::ClientReactor reactor;
  Bytes body;
  std::vector<std::uint16_t> ids;
  explicit Call(framing::ClientReactorOptions o = {}) : reactor(std::move(o)) {}
  std::uint16_t add(std::string_view name, const json& args,
                    std::optional<ByteView> data = std::nullopt) {
    auto id = reactor.call_command(name, args, body, data);
    if (!id) throw std::runtime_error(id.error().message);
    ids.push_back(*id);
    return *id;
  }
};

// The response map's text of a command error: error.message[0].msg.
inline std::string error_msg(const json& error_map) {
  return str(error_map.at("message").at(0).at("msg"));
}

}  // namespace hgrpc::server::testing
