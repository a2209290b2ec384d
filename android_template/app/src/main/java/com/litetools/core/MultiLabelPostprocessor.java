package com.litetools.core;

import java.math.BigDecimal;
import java.math.MathContext;
import java.math.RoundingMode;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Sigmoid scores to attributes, as lite_tools/reference/postprocess.py's multilabel(), which is what PaddleClas
 * 2.6's deploy/python/postprocess.py computes, quirks included (see that module's docstring, item by item):
 * MultiLabelThreshOutput compares in float32 with {@code >=} (the threshold rounded to float32 first); the
 * attribute post-processors compare the float32 scores as exact doubles against the thresholds as written
 * (PaddleClas takes {@code .tolist()}), argmax takes the first maximum, and VehicleAttribute prints each kept
 * probability as Python's {@code str(float)} (see {@link #pythonFloatRepr}).
 */
public final class MultiLabelPostprocessor {
    /** One multilabel result: the fields of the reference's Attributes. */
    public static final class Attributes {
        /** The words without the float values in them (MultiLabelThreshOutput: the chosen labels or ids). */
        public final List<String> decisions;
        /** The strings exactly as PaddleClas returns them (VehicleAttribute's carry the probabilities). */
        public final List<String> text;
        /** PaddleClas's 0/1 "output" vector. */
        public final int[] output;
        /** MultiLabelThreshOutput: the chosen class ids; empty for the attribute post-processors. */
        public final int[] classIds;
        /** The model's sigmoid scores. */
        public final float[] scores;

        Attributes(List<String> decisions, List<String> text, int[] output, int[] classIds, float[] scores) {
            this.decisions = Collections.unmodifiableList(decisions);
            this.text = Collections.unmodifiableList(text);
            this.output = output;
            this.classIds = classIds;
            this.scores = scores;
        }

        /** The score behind decision k where the post-processor has one per class (MultiLabelThreshOutput), else
         * NaN: the attribute post-processors' words combine several scores. */
        public double decisionScore(int k) {
            return classIds.length == decisions.size() ? scores[classIds[k]] : Double.NaN;
        }
    }

    public static final String MULTI_LABEL_THRESH_OUTPUT = "MultiLabelThreshOutput";
    public static final String PERSON_ATTRIBUTE = "PersonAttribute";
    public static final String VEHICLE_ATTRIBUTE = "VehicleAttribute";
    public static final String TABLE_ATTRIBUTE = "TableAttribute";

    static final String[] PERSON_AGES = {"AgeLess18", "Age18-60", "AgeOver60"};
    static final String[] PERSON_DIRECTIONS = {"Front", "Side", "Back"};
    static final String[] PERSON_BAGS = {"HandBag", "ShoulderBag", "Backpack"};
    static final String[] PERSON_UPPER = {"UpperStride", "UpperLogo", "UpperPlaid", "UpperSplice"};
    static final String[] PERSON_LOWER = {"LowerStripe", "LowerPattern", "LongCoat", "Trousers", "Shorts",
        "Skirt&Dress"};
    static final String[] VEHICLE_COLORS = {"yellow", "orange", "green", "gray", "red", "blue", "white", "golden",
        "brown", "black"};
    static final String[] VEHICLE_TYPES = {"sedan", "suv", "van", "hatchback", "mpv", "pickup", "bus", "truck",
        "estate"};
    static final String[] TABLE_NAMES = {"source", "number", "color", "clarity", "obstruction", "angle"};
    static final String[][] TABLE_WORDS = { {"Scanned", "Photo"}, {"Little", "Numerous"},
        {"Black-and-White", "Multicolor"}, {"Clear", "Blurry"}, {"Without-Obstacles", "With-Obstacles"},
        {"Horizontal", "Tilted"}};
    /** The words of obstruction and angle use number_threshold (upstream's slip); the output vector does not. */
    static final String[] TABLE_WORD_THRESHOLD = {"source", "number", "color", "clarity", "number", "number"};

    private final String postprocess;
    private final String[] labels;
    private final double threshold;
    private final String[] paramNames;
    private final double[] paramValues;

    /** paramNames/paramValues: the config's post_params; a missing one takes PaddleClas's default. */
    public MultiLabelPostprocessor(String postprocess, String[] labels, double threshold, String[] paramNames,
                                   double[] paramValues) {
        if (expectedWidth(postprocess) == 0) {
            throw new IllegalArgumentException("unknown multilabel post-processor " + postprocess);
        }
        if (paramNames.length != paramValues.length) {
            throw new IllegalArgumentException(paramNames.length + " parameter names, " + paramValues.length
                    + " values");
        }
        this.postprocess = postprocess;
        this.labels = labels.clone();
        this.threshold = threshold;
        this.paramNames = paramNames.clone();
        this.paramValues = paramValues.clone();
    }

    /** The number of scores the post-processor reads: -1 for any, 0 for an unknown post-processor. */
    public static int expectedWidth(String postprocess) {
        if (MULTI_LABEL_THRESH_OUTPUT.equals(postprocess)) {
            return -1;
        } else if (PERSON_ATTRIBUTE.equals(postprocess)) {
            return 26;
        } else if (VEHICLE_ATTRIBUTE.equals(postprocess)) {
            return 19;
        } else if (TABLE_ATTRIBUTE.equals(postprocess)) {
            return 6;
        }
        return 0;
    }

    double param(String name, double fallback) {
        for (int i = 0; i < paramNames.length; i++) {
            if (paramNames[i].equals(name)) {
                return paramValues[i];
            }
        }
        return fallback;
    }

    public Attributes process(float[] scores) {
        int width = expectedWidth(postprocess);
        if (width > 0 && scores.length != width) {
            throw new IllegalArgumentException(postprocess + " reads " + width + " outputs, the model gives "
                    + scores.length);
        }
        float[] s = scores.clone();
        if (MULTI_LABEL_THRESH_OUTPUT.equals(postprocess)) {
            return multiLabelThreshOutput(s);
        } else if (PERSON_ATTRIBUTE.equals(postprocess)) {
            return personAttribute(s);
        } else if (VEHICLE_ATTRIBUTE.equals(postprocess)) {
            return vehicleAttribute(s);
        }
        return tableAttribute(s);
    }

    private Attributes multiLabelThreshOutput(float[] s) {
        float t = (float) threshold;  // numpy 1.x compares a float32 array with a Python float in float32
        int[] output = new int[s.length];
        int chosen = 0;
        for (int i = 0; i < s.length; i++) {
            output[i] = s[i] >= t ? 1 : 0;
            chosen += output[i];
        }
        int[] ids = new int[chosen];
        List<String> names = new ArrayList<String>();
        List<String> decisions = new ArrayList<String>();
        for (int i = 0, k = 0; i < s.length; i++) {
            if (output[i] == 1) {
                ids[k++] = i;
                if (labels.length > 0) {
                    names.add(i < labels.length ? labels[i] : String.valueOf(i));
                }
                decisions.add(labels.length > 0 ? names.get(names.size() - 1) : String.valueOf(i));
            }
        }
        return new Attributes(decisions, names, output, ids, s);
    }

    private Attributes personAttribute(float[] v) {
        double t = param("threshold", 0.5);
        double glassesT = param("glasses_threshold", 0.3);
        double holdT = param("hold_threshold", 0.6);
        int bag = 15 + firstMax(v, 15, 18);
        StringBuilder upper = new StringBuilder("Upper: ");
        upper.append((double) v[3] > (double) v[2] ? "LongSleeve" : "ShortSleeve");
        for (int i = 0; i < PERSON_UPPER.length; i++) {
            if ((double) v[4 + i] > t) {
                upper.append(' ').append(PERSON_UPPER[i]);
            }
        }
        StringBuilder lower = new StringBuilder("Lower: ");
        boolean anyLower = false;
        for (int i = 0; i < PERSON_LOWER.length; i++) {
            if ((double) v[8 + i] > t) {
                lower.append(' ').append(PERSON_LOWER[i]);
                anyLower = true;
            }
        }
        if (!anyLower) {
            lower.append(' ').append(PERSON_LOWER[firstMax(v, 8, 14)]);
        }
        List<String> words = new ArrayList<String>();
        words.add((double) v[22] > t ? "Female" : "Male");
        words.add(PERSON_AGES[firstMax(v, 19, 22)]);
        words.add(PERSON_DIRECTIONS[firstMax(v, 23, 26)]);
        words.add("Glasses: " + pythonBool((double) v[1] > glassesT));
        words.add("Hat: " + pythonBool((double) v[0] > t));
        words.add("HoldObjectsInFront: " + pythonBool((double) v[18] > holdT));
        words.add((double) v[bag] > t ? PERSON_BAGS[bag - 15] : "No bag");
        words.add(upper.toString());
        words.add(lower.toString());
        words.add((double) v[14] > t ? "Boots" : "No boots");
        int[] output = new int[v.length];
        for (int i = 0; i < v.length; i++) {
            double limit = i == 1 ? glassesT : i == 18 ? holdT : 0.5;  // `threshold` does not enter it
            output[i] = (double) v[i] > limit ? 1 : 0;
        }
        return new Attributes(words, new ArrayList<String>(words), output, new int[0], v);
    }

    private Attributes vehicleAttribute(float[] v) {
        double colorT = param("color_threshold", 0.5);
        double typeT = param("type_threshold", 0.5);
        List<String> decisions = new ArrayList<String>();
        StringBuilder text = new StringBuilder();
        String[] what = {"Color", "Type"};
        String[][] names = {VEHICLE_COLORS, VEHICLE_TYPES};
        int[] starts = {0, 10};
        int[] stops = {10, 19};
        double[] limits = {colorT, typeT};
        for (int g = 0; g < 2; g++) {
            int i = starts[g] + firstMax(v, starts[g], stops[g]);
            if (g > 0) {
                text.append(", ");
            }
            if ((double) v[i] >= limits[g]) {  // `>=` in the words, `>` in the output vector
                String name = names[g][i - starts[g]];
                text.append(what[g]).append(": (").append(name).append(", prob: ")
                        .append(pythonFloatRepr(v[i])).append(')');
                decisions.add(what[g] + ": " + name);
            } else {
                text.append(what[g]).append(" unknown");
                decisions.add(what[g] + " unknown");
            }
        }
        int[] output = new int[v.length];
        for (int i = 0; i < v.length; i++) {
            output[i] = (double) v[i] > (i < 10 ? colorT : typeT) ? 1 : 0;
        }
        return new Attributes(decisions, Collections.singletonList(text.toString()), output, new int[0], v);
    }

    private Attributes tableAttribute(float[] v) {
        List<String> words = new ArrayList<String>();
        int[] output = new int[v.length];
        for (int i = 0; i < TABLE_NAMES.length; i++) {
            double wordLimit = param(TABLE_WORD_THRESHOLD[i] + "_threshold", 0.5);
            words.add((double) v[i] > wordLimit ? TABLE_WORDS[i][0] : TABLE_WORDS[i][1]);
            output[i] = (double) v[i] > param(TABLE_NAMES[i] + "_threshold", 0.5) ? 1 : 0;
        }
        return new Attributes(words, new ArrayList<String>(words), output, new int[0], v);
    }

    private static String pythonBool(boolean b) {
        return b ? "True" : "False";
    }

    /** numpy's argmax over v[from:to] (as float64): the first maximum; a NaN wins at once, as in numpy. */
    static int firstMax(float[] v, int from, int to) {
        int best = from;
        double max = v[from];
        if (Double.isNaN(max)) {
            return 0;
        }
        for (int i = from + 1; i < to; i++) {
            double x = v[i];
            if (!(x <= max)) {
                best = i;
                max = x;
                if (Double.isNaN(x)) {
                    break;
                }
            }
        }
        return best - from;
    }

    private static final BigDecimal HALF = new BigDecimal("0.5");

    /**
     * Python's repr (= str) of a double: the shortest decimal that reads back as the same double (the nearest
     * such; Java's Double.toString is not always the shortest before JDK 19), printed as Python does: fixed
     * notation for 1e-4 <= |x| < 1e16 with at least one digit after the point, else "1.5e-05" / "1e+16" with a
     * two-digit exponent at least. "Reads back" is decided exactly against the double's rounding interval (ties
     * to the even mantissa, as a correctly rounded reader), so no parser is trusted.
     */
    public static String pythonFloatRepr(double x) {
        if (Double.isNaN(x)) {
            return "nan";
        }
        if (Double.isInfinite(x)) {
            return x > 0 ? "inf" : "-inf";
        }
        String sign = (Double.doubleToRawLongBits(x) < 0) ? "-" : "";
        if (x == 0.0) {
            return sign + "0.0";
        }
        double a = Math.abs(x);
        BigDecimal exact = new BigDecimal(a);
        BigDecimal upGap = a == Double.MAX_VALUE ? new BigDecimal(Math.ulp(a))
                : new BigDecimal(Math.nextUp(a)).subtract(exact);
        BigDecimal low = exact.subtract(exact.subtract(new BigDecimal(Math.nextAfter(a, 0.0))).multiply(HALF));
        BigDecimal high = exact.add(upGap.multiply(HALF));
        boolean evenMantissa = (Double.doubleToRawLongBits(a) & 1L) == 0;
        BigDecimal shortest = exact;
        for (int p = 1; p <= 17; p++) {
            BigDecimal down = exact.round(new MathContext(p, RoundingMode.DOWN));
            BigDecimal up = exact.round(new MathContext(p, RoundingMode.UP));
            boolean downOk = readsBack(down, low, high, evenMantissa);
            boolean upOk = readsBack(up, low, high, evenMantissa);
            if (downOk && upOk) {
                int c = exact.subtract(down).compareTo(up.subtract(exact));
                boolean downEven = !down.unscaledValue().testBit(0);
                shortest = c < 0 || (c == 0 && downEven) ? down : up;
                break;
            } else if (downOk || upOk) {
                shortest = downOk ? down : up;
                break;
            }
        }
        return sign + pythonLayout(shortest.stripTrailingZeros());
    }

    private static boolean readsBack(BigDecimal d, BigDecimal low, BigDecimal high, boolean evenMantissa) {
        int lo = d.compareTo(low);
        int hi = d.compareTo(high);
        return (lo > 0 && hi < 0) || (evenMantissa && (lo == 0 || hi == 0));
    }

    /** CPython's format_float_short for repr: digits D and decpt with value 0.D * 10^decpt. */
    private static String pythonLayout(BigDecimal d) {
        String digits = d.unscaledValue().toString();
        int decpt = digits.length() - d.scale();
        StringBuilder out = new StringBuilder();
        if (decpt <= -4 || decpt > 16) {
            int exp = decpt - 1;
            out.append(digits.charAt(0));
            if (digits.length() > 1) {
                out.append('.').append(digits, 1, digits.length());
            }
            out.append('e').append(exp < 0 ? '-' : '+');
            int e = Math.abs(exp);
            if (e < 10) {
                out.append('0');
            }
            out.append(e);
        } else if (decpt <= 0) {
            out.append("0.");
            for (int i = 0; i < -decpt; i++) {
                out.append('0');
            }
            out.append(digits);
        } else if (decpt >= digits.length()) {
            out.append(digits);
            for (int i = digits.length(); i < decpt; i++) {
                out.append('0');
            }
            out.append(".0");
        } else {
            out.append(digits, 0, decpt).append('.').append(digits, decpt, digits.length());
        }
        return out.toString();
    }
}
