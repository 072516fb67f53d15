#pragma once
// Whole-file reads and writes for the CLI; "-" means stdin / stdout.
#include <string>

#include "framing/bytes.hpp"
#include "framing/result.hpp"

namespace hgrpc::client {

framing::Result<framing::Bytes> read_file(const std::string& path);
framing::Result<void> write_file(const std::string& path, framing::ByteView data);

}  // namespace hgrpc::client
