import com.litetools.core.ClassificationPostprocessor;
import com.litetools.core.MultiLabelPostprocessor;

import java.io.BufferedReader;
import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Test driver: the core's post-processors on score rows no model would give (values at the thresholds, exact
 * ties), for configurations no preset has, in one JVM. Args: IN OUT [IN OUT ...]. IN is UTF-8 lines, items
 * TAB-separated: kind (a multilabel post-processor, "ThreshOutput" or "repr"), threshold, labels, post_params
 * names, their values, default_label_index, multiclass labels (the list lines start with a name to skip, items
 * escaped as CoreHarness writes them), then
 * one line per row of float32 bits in hex. OUT: per row
 * CoreHarness's five multilabel lines; "id TAB score TAB label" for ThreshOutput; for repr, Python's repr of
 * each value's double, one a line.
 */
public final class PostprocessRows {
    /** The items after the line's name, each unescaped as CoreHarness escapes (so labels may hold TAB or newline). */
    private static String[] items(String line) {
        String[] parts = line.split("\t", -1);
        String[] out = Arrays.copyOfRange(parts, 1, parts.length);
        for (int i = 0; i < out.length; i++) {
            StringBuilder b = new StringBuilder();
            for (int k = 0; k < out[i].length(); k++) {
                char c = out[i].charAt(k);
                if (c == '\\' && k + 1 < out[i].length()) {
                    char e = out[i].charAt(++k);
                    b.append(e == 't' ? '\t' : e == 'n' ? '\n' : e);
                } else {
                    b.append(c);
                }
            }
            out[i] = b.toString();
        }
        return out;
    }

    public static void main(String[] args) throws IOException {
        for (int i = 0; i + 1 < args.length; i += 2) {
            run(args[i], args[i + 1]);
        }
    }

    private static void run(String inPath, String outPath) throws IOException {
        List<String> lines = new ArrayList<String>();
        try (BufferedReader in = new BufferedReader(new InputStreamReader(new FileInputStream(inPath), "UTF-8"))) {
            for (String line = in.readLine(); line != null; line = in.readLine()) {
                lines.add(line);
            }
        }
        String kind = lines.get(0);
        double threshold = Double.parseDouble(lines.get(1));
        String[] labels = items(lines.get(2));
        String[] names = items(lines.get(3));
        String[] valueText = items(lines.get(4));
        double[] values = new double[valueText.length];
        for (int i = 0; i < values.length; i++) {
            values[i] = Double.parseDouble(valueText[i]);
        }
        int defaultLabelIndex = Integer.parseInt(lines.get(5));
        String[] multiclassLabels = items(lines.get(6));
        MultiLabelPostprocessor multi = MultiLabelPostprocessor.expectedWidth(kind) != 0
                ? new MultiLabelPostprocessor(kind, labels, threshold, names, values) : null;
        ClassificationPostprocessor cls = new ClassificationPostprocessor(labels, 1, threshold, defaultLabelIndex,
                multiclassLabels);
        try (PrintWriter o = new PrintWriter(outPath, "UTF-8")) {
            for (String line : lines.subList(7, lines.size())) {
                String[] hex = line.isEmpty() ? new String[0] : line.split("\t");
                float[] row = new float[hex.length];
                for (int i = 0; i < row.length; i++) {
                    row[i] = Float.intBitsToFloat((int) Long.parseLong(hex[i], 16));
                }
                if (multi != null) {
                    CoreHarness.writeAttributes(o, multi.process(row));
                } else if (kind.equals("ThreshOutput")) {
                    ClassificationPostprocessor.ClassScore c = cls.binary(row);
                    o.print(c.classId + "\t" + c.score + "\t" + CoreHarness.escape(c.label) + "\n");
                } else {
                    for (float v : row) {
                        o.print(MultiLabelPostprocessor.pythonFloatRepr(v) + "\n");
                    }
                }
            }
        }
    }
}
