import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.UserDefinedFileAttributeView;

/**
 * Exits 0 when the directory's filesystem keeps user extended attributes
 * through the same NIO API that S3Proxy's filesystem-nio2 backend stores
 * object metadata (ETag, content type) with; 1 otherwise.
 *
 *   java XattrCheck.java DIR
 */
public final class XattrCheck {
    public static void main(String[] args) throws IOException {
        Path file = Files.createTempFile(Path.of(args[0]), "xattr-check", ".tmp");
        boolean supported;
        try {
            var view = Files.getFileAttributeView(file, UserDefinedFileAttributeView.class);
            view.write("pulse-check", ByteBuffer.wrap(new byte[] {1}));
            supported = view.size("pulse-check") == 1;
        } catch (NullPointerException | UnsupportedOperationException | IOException e) {
            supported = false;
        } finally {
            Files.deleteIfExists(file);
        }
        System.exit(supported ? 0 : 1);
    }
}
