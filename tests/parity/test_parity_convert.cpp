// tools/convert_checkpoint.py end to end: a .pth.tar holding {'state_dict': {'module.' + key}}
// converts to safetensors, which loads strictly into the C++ model (prefixes stripped) with
// exactly the original values (tools/reference/parity_convert.py makes both files).
#include "parity_support.h"
#include "small_net.h"

using namespace rtseg;

TEST_CASE("a PyTorch training checkpoint converts and loads by name with identical values",
          "[parity][convert]") {
  SafetensorsFile expected = SafetensorsFile::read(parity::reference_path("convert.safetensors"));
  Generator gen(0);
  parity::SmallNet net(gen);
  const std::string converted = parity::reference_path("convert_converted.safetensors");
  SafetensorsFile file = SafetensorsFile::read(converted);
  REQUIRE(file.names().front().rfind("module.", 0) == 0);  // keys are stored as PyTorch wrote them
  REQUIRE(file.metadata().at("state_dict") == "state_dict");
  LoadReport report = load_safetensors(net, converted, true);
  REQUIRE(report.clean());
  REQUIRE(report.loaded.size() == net.state_dict().size());
  for (const auto& [key, t] : net.state_dict()) {
    INFO(key);
    REQUIRE(t.to_doubles() == expected.tensor("expected/" + key).to_doubles());
  }
}

RTSEG_PARITY_REFERENCE_FILE("convert.safetensors")
