// Bounded HTTP load driver for scripts/bench: keep-alive connections on
// 127.0.0.1, one thread and one httplib::Client each, each sending the same
// prebuilt body (or GET of a static file, for nginx) until the duration or
// the request budget runs out. Prints one JSON object on stdout:
//   {"case", "connections", "requests", "errors", "seconds", "rps",
//    "p50_us", "p99_us", "response_bytes", ...}
// The first response of every connection is checked value by value (and
// every later one by status and size), so a broken server cannot look fast.
//
// The bigbody case streams one multirequest body of --body-bytes (generated
// on the fly, chunked) and reports the server's VmHWM (--server-pid).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "bench/load_workloads.hpp"

using namespace hgrpc::bench;
using hgrpc::framing::ClientReactorOptions;
using hgrpc::framing::Encoding;
using Clock = std::chrono::steady_clock;

namespace {

struct Config {
  std::string host = "127.0.0.1";
  int port = 0;
  std::string kase = "patchedsize";
  std::string path;  // static: the GET path
  std::size_t connections = 1;
  double duration = 5;
  std::uint64_t max_requests = 1'000'000;
  std::size_t commands = 200;  // multirequest
  std::uint64_t body_bytes = std::uint64_t{1} << 30;
  std::uint64_t response_bytes = std::uint64_t{512} << 20;  // bigresponse
  int server_pid = 0;
  std::vector<std::string> encodings{"zstd-8mb", "zlib", "identity"};
  std::string dump_body;  // write the request body here and exit
};

// "VmHWM:   12345 kB" -> bytes; 0 if unreadable.
std::uint64_t vm_hwm(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stoull(line.substr(6)) * 1024;
  }
  return 0;
}

std::unique_ptr<httplib::Client> connect(const Config& c) {
  auto cli = std::make_unique<httplib::Client>(c.host, c.port);
  cli->set_keep_alive(true);
  cli->set_tcp_nodelay(true);
  cli->set_connection_timeout(5);
  cli->set_read_timeout(60);
  cli->set_write_timeout(60);
  return cli;
}

const httplib::Headers& post_headers() {
  static const httplib::Headers h{{"Accept", std::string(kMediaType)}};
  return h;
}

int run_load(const Config& c, const ClientReactorOptions& reactor) {
  std::optional<Workload> w;
  if (c.kase == "patchedsize") w = patchedsize_workload(reactor);
  else if (c.kase == "applypatches") w = applypatches_workload(reactor);
  else if (c.kase == "multirequest") w = multirequest_workload(reactor, c.commands);
  else if (c.kase != "static") {
    std::fprintf(stderr, "http_load: unknown case %s\n", c.kase.c_str());
    return 2;
  }
  const std::string body = w ? std::string(hgrpc::framing::as_chars(w->body)) : std::string();
  if (!c.dump_body.empty()) {
    std::ofstream(c.dump_body, std::ios::binary) << body;
    return 0;
  }

  std::atomic<std::uint64_t> issued{0};
  std::atomic<std::uint64_t> errors{0}, response_bytes{0};
  std::mutex mu;
  std::vector<double> latencies;  // microseconds, all threads
  std::string first_error;
  const auto start = Clock::now();
  const auto deadline = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(c.duration));

  auto worker = [&] {
    auto cli = connect(c);
    std::vector<double> mine;
    std::optional<std::size_t> size;  // of the first, fully checked response
    std::string err;
    while (Clock::now() < deadline) {
      if (issued.fetch_add(1) >= c.max_requests) break;
      const auto t0 = Clock::now();
      auto res = w ? cli->Post(w->path, post_headers(), body, std::string(kMediaType)) : cli->Get(c.path);
      const auto t1 = Clock::now();
      std::string problem;
      if (!res) problem = "transport: " + httplib::to_string(res.error());
      else if (res->status != 200) problem = "status " + std::to_string(res->status) + ": " + res->body.substr(0, 200);
      else if (size && res->body.size() != *size) problem = "response size changed: " + std::to_string(res->body.size());
      else if (!size && w) {
        auto ok = check_response(*w, hgrpc::framing::as_bytes(res->body), reactor);
        if (!ok) problem = "bad response: " + ok.error().message;
      }
      if (!problem.empty()) {
        errors.fetch_add(1);
        if (err.empty()) err = problem;
        if (!res) cli = connect(c);
        continue;
      }
      if (!size) size = res->body.size();
      response_bytes.store(res->body.size());
      mine.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
    }
    std::lock_guard lock(mu);
    latencies.insert(latencies.end(), mine.begin(), mine.end());
    if (first_error.empty()) first_error = err;
  };
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < c.connections; ++i) threads.emplace_back(worker);
  for (auto& t : threads) t.join();
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();

  std::sort(latencies.begin(), latencies.end());
  auto pct = [&](double p) {
    if (latencies.empty()) return 0.0;
    return latencies[std::min(latencies.size() - 1, static_cast<std::size_t>(p * static_cast<double>(latencies.size())))];
  };
  nlohmann::json out{{"case", c.kase},
                     {"connections", c.connections},
                     {"requests", latencies.size()},
                     {"errors", errors.load()},
                     {"seconds", seconds},
                     {"rps", static_cast<double>(latencies.size()) / seconds},
                     {"p50_us", pct(0.50)},
                     {"p99_us", pct(0.99)},
                     {"response_bytes", response_bytes.load()},
                     {"request_bytes", body.size()},
                     {"commands_per_request", w ? w->expected.size() : 0}};
  if (!first_error.empty()) out["first_error"] = first_error;
  std::printf("%s\n", out.dump().c_str());
  return latencies.empty() ? 1 : 0;
}

// One benchstream request for c.response_bytes (hgrpcd_bench): the response
// is read as it arrives, its frames checked and counted, nothing kept; the
// server's VmHWM is read after it.
int run_bigresponse(const Config& c, const ClientReactorOptions& reactor) {
  hgrpc::framing::ClientReactor client(reactor);
  hgrpc::framing::Bytes body;
  auto id = client.call_command("benchstream", {{"size", c.response_bytes}}, body);
  if (!id) {
    std::fprintf(stderr, "http_load: %s\n", id.error().message.c_str());
    return 2;
  }
  const std::uint64_t hwm_before = c.server_pid ? vm_hwm(c.server_pid) : 0;
  auto cli = connect(c);
  cli->set_read_timeout(600);
  httplib::Request req;
  req.method = "POST";
  req.path = std::string(kApiPrefix) + "benchstream";
  req.headers = post_headers();
  req.headers.emplace("Content-Type", std::string(kMediaType));
  req.body.assign(reinterpret_cast<const char*>(body.data()), body.size());
  // Frames are parsed from the stream as it comes: header, payload length.
  std::uint64_t received = 0, frames = 0, payload = 0;
  std::set<std::uint8_t> streams;  // output streams the response used
  std::size_t header_fill = 0, skip = 0;
  std::uint8_t header[hgrpc::framing::kFrameHeaderSize];
  bool eos = false;
  req.content_receiver = [&](const char* data, std::size_t len, std::uint64_t, std::uint64_t) {
    received += len;
    while (len > 0) {
      if (skip > 0) {
        const auto n = std::min(skip, len);
        skip -= n, data += n, len -= n;
        continue;
      }
      header[header_fill++] = static_cast<std::uint8_t>(*data++);
      --len;
      if (header_fill == sizeof header) {
        header_fill = 0;
        skip = header[0] | (header[1] << 8) | (header[2] << 16);
        payload += skip;
        ++frames;
        streams.insert(header[5]);
        const std::uint8_t type = header[7] >> 4, flags = header[7] & 0x0f;
        if (type == 0x03 && (flags & 0x02)) eos = true;
        if (type == 0x05) eos = false;  // an error-response: not a complete answer
      }
    }
    return true;
  };
  const auto start = Clock::now();
  auto res = cli->send(req);
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  nlohmann::json out{{"case", "bigresponse"},
                     {"response_bytes", c.response_bytes},
                     {"wire_bytes", received},
                     {"frames", frames},
                     {"streams", streams.size()},
                     {"payload_bytes", payload},
                     {"encodings", c.encodings},
                     {"seconds", seconds},
                     {"mb_per_s", static_cast<double>(c.response_bytes) / seconds / 1e6},
                     {"server_vmhwm_before", hwm_before},
                     {"server_vmhwm", c.server_pid ? vm_hwm(c.server_pid) : 0}};
  int rc = 0;
  if (!res) {
    out["error"] = "transport: " + httplib::to_string(res.error());
    rc = 1;
  } else if (res->status != 200) {
    out["error"] = "status " + std::to_string(res->status);
    rc = 1;
  } else if (!eos || header_fill != 0 || skip != 0) {
    out["error"] = "the response did not end with a complete eos frame";
    rc = 1;
  } else if (c.encodings == std::vector<std::string>{"identity"} && payload < c.response_bytes) {
    out["error"] = "payload shorter than the requested size";
    rc = 1;
  }
  std::printf("%s\n", out.dump().c_str());
  return rc;
}

// One multirequest body of c.body_bytes, chunked, generated while it is sent.
int run_bigbody(const Config& c, const ClientReactorOptions& reactor) {
  BigBody gen(reactor, c.body_bytes);
  Bytes pending;
  const std::uint64_t hwm_before = c.server_pid ? vm_hwm(c.server_pid) : 0;
  auto cli = connect(c);
  cli->set_read_timeout(600);
  cli->set_write_timeout(600);
  const auto start = Clock::now();
  auto res = cli->Post(
      std::string(kApiPrefix) + "multirequest", post_headers(),
      [&](std::size_t, httplib::DataSink& sink) {
        pending.clear();
        if (!gen.next(pending)) {
          sink.done();
          return true;
        }
        return sink.write(reinterpret_cast<const char*>(pending.data()), pending.size());
      },
      std::string(kMediaType));
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  nlohmann::json out{{"case", "bigbody"},
                     {"body_bytes", gen.produced()},
                     {"requests", gen.requests()},
                     {"seconds", seconds},
                     {"mb_per_s", static_cast<double>(gen.produced()) / seconds / 1e6},
                     {"server_vmhwm_before", hwm_before},
                     {"server_vmhwm", c.server_pid ? vm_hwm(c.server_pid) : 0}};
  int rc = 0;
  if (!res) {
    out["error"] = "transport: " + httplib::to_string(res.error());
    rc = 1;
  } else if (res->status != 200) {
    out["error"] = "status " + std::to_string(res->status) + ": " + res->body.substr(0, 200);
    rc = 1;
  } else if (auto ok = check_response(gen.expectation(), hgrpc::framing::as_bytes(res->body), reactor); !ok) {
    out["error"] = "bad response: " + ok.error().message;
    rc = 1;
  }
  std::printf("%s\n", out.dump().c_str());
  return rc;
}

}  // namespace

int main(int argc, char** argv) {
  Config c;
  CLI::App app{"Bounded HTTP load on an hgrpcd (or a static file server) at 127.0.0.1"};
  app.add_option("--host", c.host, "Server address");
  app.add_option("--port", c.port, "Server port")->required();
  app.add_option("--case", c.kase, "patchedsize, applypatches, multirequest, static, bigbody or bigresponse")
      ->check(CLI::IsMember({"patchedsize", "applypatches", "multirequest", "static", "bigbody", "bigresponse"}));
  app.add_option("--path", c.path, "static: the path to GET");
  app.add_option("--connections", c.connections, "Keep-alive connections, one thread each")
      ->check(CLI::Range(std::size_t{1}, std::size_t{256}));
  app.add_option("--duration", c.duration, "Seconds of load")->check(CLI::Range(0.1, 600.0));
  app.add_option("--max-requests", c.max_requests, "Request budget over all connections");
  app.add_option("--commands", c.commands, "multirequest: small commands per body")
      ->check(CLI::Range(std::size_t{1}, std::size_t{32767}));
  app.add_option("--body-bytes", c.body_bytes, "bigbody: body size")->transform(CLI::AsSizeValue(false));
  app.add_option("--response-bytes", c.response_bytes, "bigresponse: response size (hgrpcd_bench)")
      ->transform(CLI::AsSizeValue(false));
  app.add_option("--server-pid", c.server_pid, "bigbody, bigresponse: process whose VmHWM is reported");
  app.add_option("--encodings", c.encodings, "Content encodings the client advertises, in preference")
      ->delimiter(',');
  app.add_option("--dump-body", c.dump_body, "Write the case's request body to this file and exit");
  CLI11_PARSE(app, argc, argv);

  ClientReactorOptions reactor;
  reactor.content_encodings.clear();
  for (const auto& name : c.encodings) {
    auto e = hgrpc::framing::encoding_from_name(name);
    if (!e) {
      std::fprintf(stderr, "http_load: unknown encoding %s\n", name.c_str());
      return 2;
    }
    reactor.content_encodings.push_back(*e);
  }
  if (c.kase == "static" && c.path.empty()) {
    std::fprintf(stderr, "http_load: --case static needs --path\n");
    return 2;
  }
  if (c.kase == "bigresponse") return run_bigresponse(c, reactor);
  return c.kase == "bigbody" ? run_bigbody(c, reactor) : run_load(c, reactor);
}
