// hgrpc clone against a hostile or broken server: arbitrary answers to each
// of the clone's calls (tests/fuzz/replayed_exchange.hpp) into a scratch
// directory. The client must fail with an error value, never crash, write
// outside its destination or leave the destination behind on failure.
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "client/clone.hpp"
#include "tests/fuzz/replayed_exchange.hpp"

namespace fs = std::filesystem;

namespace {

fs::path scratch() {
  static const fs::path dir = [] {
    fs::path d = fs::temp_directory_path() / ("clone-responses-fuzz." + std::to_string(::getpid()));
    fs::remove_all(d);
    fs::create_directories(d);
    return d;
  }();
  return dir;
}

// The descriptor a server's handshake gives (batch sizes are what the
// client reads from it).
const hgrpc::framing::json& descriptor() {
  static const hgrpc::framing::json d = {
      {"commands",
       {{"manifestdata", {{"recommendedbatchsize", 3}}}, {"filesdata", {{"recommendedbatchsize", 2}}}}}};
  return d;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  hgrpc::fuzz::ReplayedExchange replay(hgrpc::framing::ByteView(data, size));
  const fs::path dest = scratch() / "dest";
  hgrpc::client::CloneOptions options;
  options.source_url = "http://127.0.0.1:1/";
  options.checkout = (size % 2) == 0;
  options.writer.write_threads = (size / 2) % 3;  // the reader writing, or 1 or 2 writer threads
  auto result = hgrpc::client::clone_repository(replay.exchange(), descriptor(), dest, options);
  std::error_code ec;
  // Whatever happened, nothing beside DEST; DEST only on success.
  std::size_t entries = 0;
  for (const auto& e : fs::directory_iterator(scratch(), ec)) {
    (void)e;
    ++entries;
  }
  if (entries != (result ? 1u : 0u)) std::abort();
  fs::remove_all(dest, ec);
  return 0;
}
