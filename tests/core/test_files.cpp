// Manifests (StageKey, is_up_to_date, output_fingerprint), atomic outputs and the FNV-1a hasher.
#include <gtest/gtest.h>

#include <fstream>
#include <thread>

#include "cfma/core/atomic_file.hpp"
#include "cfma/core/error.hpp"
#include "cfma/core/hash.hpp"
#include "cfma/core/manifest.hpp"
#include "tests/test_paths.hpp"

namespace {

namespace fs = std::filesystem;

void write_text(const fs::path& p, const std::string& s) {
  std::ofstream(p, std::ios::binary) << s;
}

cfma::StageKey sample_key() {
  return {"preprocess", {{"features", {{"n_mels", 128}}}}, {{"nsynth", "abc"}}};
}

TEST(Hasher, KnownFnv1a64Values) {
  EXPECT_EQ(cfma::hash_text(""), "cbf29ce484222325");
  EXPECT_EQ(cfma::hash_text("a"), "af63dc4c8601ec8c");
  EXPECT_EQ(cfma::hash_text("foobar"), "85944171f73967e8");
  EXPECT_EQ(cfma::Hasher{}.text("a").digest(), 0xaf63dc4c8601ec8cULL);
  // Streaming in pieces equals hashing the whole.
  EXPECT_EQ(cfma::Hasher{}.text("foo").text("bar").hex(), "85944171f73967e8");
}

TEST(Hasher, FileHashEqualsTextHash) {
  const auto dir = cfma::test::scratch_dir("core-hash-file");
  std::string big(200000, 'x');  // > one 64 KiB read
  for (std::size_t i = 0; i < big.size(); i += 7) big[i] = static_cast<char>('a' + i % 26);
  write_text(dir / "f.bin", big);
  EXPECT_EQ(cfma::hash_file(dir / "f.bin"), cfma::hash_text(big));
  EXPECT_THROW(cfma::hash_file(dir / "absent"), cfma::Error);
  const auto fp = cfma::fingerprint_file(dir / "f.bin");
  EXPECT_EQ(fp, cfma::fingerprint_file(dir / "f.bin"));
  write_text(dir / "f.bin", big + "y");
  EXPECT_NE(fp, cfma::fingerprint_file(dir / "f.bin"));  // size changed
}

TEST(Manifest, UpToDateOnlyWithMatchingKeyAndOutput) {
  const auto dir = cfma::test::scratch_dir("core-manifest-uptodate");
  const auto out = dir / "features.h5";
  const auto key = sample_key();
  EXPECT_EQ(cfma::manifest_path(out), dir / "features.h5.manifest.json");
  EXPECT_FALSE(cfma::is_up_to_date(out, key));  // nothing there
  write_text(out, "data");
  EXPECT_FALSE(cfma::is_up_to_date(out, key));  // output without manifest
  cfma::write_manifest(out, key, {{"examples", 24}});
  EXPECT_TRUE(cfma::is_up_to_date(out, key));
  const auto m = cfma::read_manifest(out);
  ASSERT_TRUE(m);
  EXPECT_EQ((*m)["key"], key.hash());
  EXPECT_EQ((*m)["stage"], "preprocess");
  EXPECT_EQ((*m)["examples"], 24);
  EXPECT_EQ((*m)["inputs"]["nsynth"], "abc");

  auto changed_config = key;
  changed_config.config["features"]["n_mels"] = 64;
  EXPECT_FALSE(cfma::is_up_to_date(out, changed_config));
  auto changed_input = key;
  changed_input.inputs["nsynth"] = "abd";
  EXPECT_FALSE(cfma::is_up_to_date(out, changed_input));
  auto changed_stage = key;
  changed_stage.stage = "extract";
  EXPECT_FALSE(cfma::is_up_to_date(out, changed_stage));

  fs::remove(out);  // manifest without output
  EXPECT_FALSE(cfma::is_up_to_date(out, key));
}

TEST(Manifest, DamagedManifestIsNotUpToDate) {
  const auto dir = cfma::test::scratch_dir("core-manifest-damaged");
  const auto out = dir / "model.pt";
  write_text(out, "weights");
  cfma::write_manifest(out, sample_key());
  ASSERT_TRUE(cfma::is_up_to_date(out, sample_key()));
  auto text = cfma::read_file(cfma::manifest_path(out));
  write_text(cfma::manifest_path(out), text.substr(0, text.size() / 2));  // truncated JSON
  EXPECT_FALSE(cfma::read_manifest(out));
  EXPECT_FALSE(cfma::is_up_to_date(out, sample_key()));
  write_text(cfma::manifest_path(out), "{\"stage\": \"preprocess\"}");  // valid JSON, no key
  EXPECT_FALSE(cfma::is_up_to_date(out, sample_key()));
}

TEST(Manifest, OutputFingerprintFollowsManifest) {
  const auto dir = cfma::test::scratch_dir("core-manifest-fingerprint");
  const auto out = dir / "features.h5";
  write_text(out, "rows");
  const auto without = cfma::output_fingerprint(out);
  EXPECT_EQ(without, cfma::fingerprint_file(out));  // no manifest: size + mtime
  cfma::write_manifest(out, sample_key());
  const auto first = cfma::output_fingerprint(out);
  EXPECT_NE(first, without);
  EXPECT_EQ(first, cfma::output_fingerprint(out));  // stable while nothing changes
  EXPECT_EQ(first.rfind(sample_key().hash(), 0), 0u) << first;
  // Rewritten with another key (an input recomputed differently): a new fingerprint.
  auto other = sample_key();
  other.inputs["nsynth"] = "xyz";
  cfma::write_manifest(out, other);
  EXPECT_NE(cfma::output_fingerprint(out), first);
  // Rewritten with the same key at once (a forced recompute within the same second): a new
  // fingerprint too (the manifest records the write time in nanoseconds).
  cfma::write_manifest(out, sample_key());
  const auto again = cfma::output_fingerprint(out);
  cfma::write_manifest(out, sample_key());
  EXPECT_NE(cfma::output_fingerprint(out), again);
}

TEST(AtomicOutput, TemporaryRemovedWithoutCommit) {
  const auto dir = cfma::test::scratch_dir("core-atomic-abandon");
  const auto final_path = dir / "sub" / "out.h5";
  fs::path temp;
  {
    cfma::AtomicOutput out(final_path, "t1");
    temp = out.temp_path();
    EXPECT_EQ(out.final_path(), final_path);
    EXPECT_EQ(temp, dir / "sub" / "out.h5.tmp-t1");
    EXPECT_TRUE(fs::is_directory(dir / "sub"));  // parent created
    write_text(temp, "partial");
  }
  EXPECT_FALSE(fs::exists(temp));
  EXPECT_FALSE(fs::exists(final_path));
}

TEST(AtomicOutput, CommitRenamesAndReleaseKeeps) {
  const auto dir = cfma::test::scratch_dir("core-atomic-commit");
  const auto final_path = dir / "out.txt";
  write_text(final_path, "old");
  {
    cfma::AtomicOutput out(final_path, "t2");
    write_text(out.temp_path(), "new");
    EXPECT_EQ(cfma::read_file(final_path), "old");  // untouched until commit
    out.commit();
    EXPECT_FALSE(fs::exists(out.temp_path()));
  }
  EXPECT_EQ(cfma::read_file(final_path), "new");
  fs::path temp;
  {
    cfma::AtomicOutput out(dir / "other.txt", "t3");
    temp = out.temp_path();
    write_text(temp, "owned elsewhere");
    out.release();  // another rank owns the file: leave it
  }
  EXPECT_TRUE(fs::exists(temp));
  // Commit without a temporary: an error naming the final path.
  cfma::AtomicOutput missing(dir / "never.txt", "t4");
  try {
    missing.commit();
    FAIL() << "commit without temporary did not throw";
  } catch (const cfma::Error& e) {
    EXPECT_NE(std::string(e.what()).find((dir / "never.txt").string()), std::string::npos) << e.what();
  }
}

TEST(AtomicOutput, WriteFileAtomic) {
  const auto dir = cfma::test::scratch_dir("core-write-atomic");
  const auto path = dir / "a" / "b" / "m.json";
  cfma::write_file_atomic(path, "first");
  EXPECT_EQ(cfma::read_file(path), "first");
  std::string big(1 << 20, 'z');
  cfma::write_file_atomic(path, big);
  EXPECT_EQ(cfma::read_file(path), big);
  cfma::write_file_atomic(path, "");
  EXPECT_EQ(cfma::read_file(path), "");
  // No temporaries left behind.
  int entries = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir / "a" / "b")) ++entries;
  EXPECT_EQ(entries, 1);
  EXPECT_THROW(cfma::read_file(dir / "absent"), cfma::Error);
}

}  // namespace
