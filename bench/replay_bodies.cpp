// Replays recorded request bodies (a clone's POSTs, from bench/clone_bench.py)
// against a server on 127.0.0.1: CLIENTS threads at once, each one keep-alive
// connection sending every body in order once, each response read to its end
// and dropped. A lean C++ client, so that on a 2-core machine the measured
// concurrency is the server's and not a Python client's (its GIL and its
// chunked decoding cost as much CPU as the server's answer).
//
//   replay_bodies --port P --clients N [--rounds R] BODY_DIR
// BODY_DIR holds 000.path/000.body, 001.path/001.body, ... Each client sends
// the sequence R times (N x R clones). Prints one JSON object: {"clients",
// "rounds", "wall_s", "response_bytes", "errors"}.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <CLI/CLI.hpp>
#include <httplib.h>
#include <nlohmann/json.hpp>

namespace {

constexpr const char* kMediaType = "application/mercurial-exp-framing-0006";

std::string read_all(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// (path, body) in file-name order.
std::vector<std::pair<std::string, std::string>> load_posts(const std::filesystem::path& dir) {
  std::vector<std::pair<std::string, std::string>> posts;
  for (int i = 0;; ++i) {
    char stem[16];
    std::snprintf(stem, sizeof stem, "%03d", i);
    const auto path_file = dir / (std::string(stem) + ".path");
    if (!std::filesystem::exists(path_file)) break;
    std::string path = read_all(path_file);
    while (!path.empty() && (path.back() == '\n' || path.back() == '\r')) path.pop_back();
    posts.emplace_back(std::move(path), read_all(dir / (std::string(stem) + ".body")));
  }
  return posts;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("Replays recorded request bodies with CLIENTS connections at once");
  int port = 0;
  std::size_t clients = 1;
  std::size_t rounds = 1;
  std::string dir;
  app.add_option("--port", port, "Server port on 127.0.0.1")->required();
  app.add_option("--clients", clients, "Connections at once, one thread each, each sending every body once")
      ->check(CLI::Range(std::size_t{1}, std::size_t{256}));
  app.add_option("--rounds", rounds, "Times each client sends the whole sequence, one after the other")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1000}));
  app.add_option("BODY_DIR", dir, "000.path, 000.body, 001.path, ...")->required()->check(CLI::ExistingDirectory);
  CLI11_PARSE(app, argc, argv);

  const auto posts = load_posts(dir);
  if (posts.empty()) {
    std::fprintf(stderr, "replay_bodies: no 000.path in %s\n", dir.c_str());
    return 2;
  }
  std::atomic<std::uint64_t> bytes{0};
  std::atomic<std::uint64_t> errors{0};
  const httplib::Headers headers{{"Accept", kMediaType}};
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (std::size_t t = 0; t < clients; ++t) {
    threads.emplace_back([&] {
      httplib::Client cli("127.0.0.1", port);
      cli.set_keep_alive(true);
      cli.set_read_timeout(600);
      cli.set_write_timeout(600);
      for (std::size_t round = 0; round < rounds; ++round)
      for (const auto& [path, body] : posts) {
        std::uint64_t got = 0;
        httplib::Request req;
        req.method = "POST";
        req.path = path;
        req.headers = headers;
        req.set_header("Content-Type", kMediaType);
        req.body = body;
        req.content_receiver = [&](const char*, std::size_t n, std::uint64_t, std::uint64_t) {
          got += n;
          return true;
        };
        auto res = cli.send(req);
        if (!res || res->status != 200) {
          errors += 1;
          return;
        }
        bytes += got;
      }
    });
  }
  for (auto& th : threads) th.join();
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  nlohmann::json out{{"clients", clients}, {"rounds", rounds}, {"wall_s", wall}, {"response_bytes", bytes.load()}, {"errors", errors.load()}};
  std::printf("%s\n", out.dump().c_str());
  return errors.load() == 0 ? 0 : 1;
}
