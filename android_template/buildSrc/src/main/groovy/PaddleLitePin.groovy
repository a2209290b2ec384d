import java.nio.file.Files
import java.nio.file.StandardCopyOption
import java.security.DigestInputStream
import java.security.MessageDigest

/**
 * The download and digest rules of fetchPaddleLite (app/paddle_lite.gradle), as a plain Groovy class with no Gradle
 * API so that lite-tools tests it with Debian's Groovy on real files (Gradle compiles buildSrc/ by itself).
 *
 * A pinned sha256 (paddleLite.sha256.ABI in gradle.properties) must match, else the archive is deleted and refused.
 * With no pin, the first download is trusted and its sha256 written into gradle.properties (trust on first use,
 * stated in the build output); with requirePin (CI: a fresh checkout's first download protects nothing) it refuses.
 */
class PaddleLitePin {
    /** A refusal the build shows as it is: what failed and what to do. */
    static class Refused extends RuntimeException {
        Refused(String message) {
            super(message)
        }
    }

    static String key(String abi) {
        return "paddleLite.sha256.${abi}".toString()
    }

    static String sha256(File file) {
        MessageDigest digest = MessageDigest.getInstance('SHA-256')
        file.withInputStream { InputStream raw ->
            DigestInputStream input = new DigestInputStream(raw, digest)
            byte[] buf = new byte[1 << 16]
            while (input.read(buf) >= 0) {
                // reading feeds the digest
            }
        }
        return digest.digest().encodeHex().toString()
    }

    /**
     * Download `url` to `archive` (through a .part file, so that an interrupted download is never taken for the
     * archive, nor trusted on first use). A failure says which property to set.
     */
    static void download(String url, File archive, String abi, String version) {
        archive.parentFile.mkdirs()
        File part = new File(archive.path + '.part')
        try {
            new URL(url).withInputStream { InputStream input -> part.withOutputStream { OutputStream out -> out << input } }
        } catch (IOException e) {
            part.delete()
            throw new Refused("Cannot download the Paddle Lite ${version} ${abi} archive from ${url} (${e}). This " +
                    "address applies the release-asset naming Paddle Lite documents for v2.8-v2.12 to ${version} " +
                    "and is unconfirmed: set paddleLite.url.${abi} in gradle.properties to the archive's address " +
                    "(https://github.com/PaddlePaddle/Paddle-Lite/releases/tag/${version}, the " +
                    "clang.c++_static.with_extra.with_cv asset), or place app/libs/PaddlePredictor.jar and " +
                    "app/src/main/jniLibs/${abi}/libpaddle_lite_jni.so by hand (README.md).")
        }
        Files.move(part.toPath(), archive.toPath(), StandardCopyOption.REPLACE_EXISTING)
    }

    /**
     * Check `archive` (downloaded from `url`) against `pinned` (the value of paddleLite.sha256.ABI, empty if unset);
     * return the line the build prints. Trust on first use writes the digest into `properties` (gradle.properties).
     */
    static String check(File archive, String abi, String url, String pinned, File properties, boolean requirePin) {
        String expected = (pinned ?: '').trim().toLowerCase()
        String actual = sha256(archive)
        if (!expected.isEmpty()) {
            if (actual != expected) {
                archive.delete()
                throw new Refused("sha256 of ${url} is ${actual}, but gradle.properties pins ${key(abi)}=" +
                        "${expected}: refusing it (the archive was deleted). If the release really changed, verify " +
                        "the new archive and update the pin.")
            }
            return "fetchPaddleLite: ${abi} archive matches its pinned sha256 ${actual}".toString()
        }
        if (requirePin) {
            archive.delete()
            throw new Refused("${key(abi)} is not pinned in gradle.properties and paddleLite.requirePin is set: " +
                    "trusting a first download here protects nothing. Build once locally (which records the " +
                    "digest), verify it, and commit gradle.properties.")
        }
        writePin(properties, abi, actual)
        return ("fetchPaddleLite: TRUST ON FIRST USE: ${key(abi)} was not set, so this build trusts the first " +
                "download of ${url} and wrote its sha256 ${actual} into ${properties.name}. Later builds refuse " +
                "any other archive; verify this digest against a source you trust and commit the file.").toString()
    }

    /** Set `paddleLite.sha256.ABI=digest` in the properties file, keeping every other line as it is. */
    static void writePin(File properties, String abi, String digest) {
        String prefix = key(abi) + '='
        List<String> lines = properties.exists() ? properties.readLines('UTF-8') : []
        boolean found = false
        List<String> out = lines.collect { String line ->
            if (line.trim().startsWith(prefix)) {
                found = true
                return prefix + digest
            }
            return line
        }
        if (!found) {
            out.add(prefix + digest)
        }
        File tmp = new File(properties.path + '.tmp')
        tmp.setText(out.join('\n') + '\n', 'UTF-8')
        Files.move(tmp.toPath(), properties.toPath(), StandardCopyOption.REPLACE_EXISTING)
    }
}
