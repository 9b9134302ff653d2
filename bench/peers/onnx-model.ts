// A one-node ONNX model written as protobuf bytes by hand (onnxruntime-node only loads models; the
// onnx package is Python). Field numbers are from onnx.proto3: ModelProto{ir_version=1, graph=7,
// opset_import=8}, GraphProto{node=1, name=2, input=11, output=12}, NodeProto{input=1, output=2,
// op_type=4}, ValueInfoProto{name=1, type=2}, TypeProto{tensor_type=1}, Tensor{elem_type=1,
// shape=2}, TensorShapeProto{dim=1}, Dimension{dim_value=1}, OperatorSetIdProto{domain=1, version=2}.
const FLOAT = 1;

function varint(n: number): number[] {
  const out: number[] = [];
  let v = BigInt(n);
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) b |= 0x80;
    out.push(b);
  } while (v > 0n);
  return out;
}
const int = (field: number, v: number) => [...varint(field << 3), ...varint(v)];
const bytes = (field: number, b: number[]) => [...varint((field << 3) | 2), ...varint(b.length), ...b];
const str = (field: number, s: string) => bytes(field, [...new TextEncoder().encode(s)]);

function valueInfo(name: string, shape: readonly number[]): number[] {
  const dims = shape.flatMap((d) => bytes(1, int(1, d)));
  const tensorType = [...int(1, FLOAT), ...bytes(2, dims)];
  return [...str(1, name), ...bytes(2, bytes(1, tensorType))];
}

export interface OnnxIO {
  name: string;
  shape: readonly number[];
}

/** An operator with its domain ('' = ONNX) and integer attributes. */
export interface OnnxNode {
  op: string;
  domain?: string;
  attributes?: Record<string, number>;
}

// NodeProto{attribute=5, domain=7}, AttributeProto{name=1, i=3, type=20 (INT = 2)}
const attribute = (name: string, v: number) => bytes(5, [...str(1, name), ...int(3, v), ...int(20, 2)]);

/** Model bytes for `outputs[0] = op(inputs…)` on float tensors, opset 13 (and com.microsoft 1). */
export function oneNodeModel(n: string | OnnxNode, inputs: OnnxIO[], output: OnnxIO): Uint8Array {
  const { op: opType, domain = '', attributes = {} } = typeof n === 'string' ? { op: n } : n;
  const node = [
    ...inputs.flatMap((i) => str(1, i.name)),
    ...str(2, output.name),
    ...str(4, opType),
    ...Object.entries(attributes).flatMap(([k, v]) => attribute(k, v)),
    ...(domain ? str(7, domain) : []),
  ];
  const graph = [
    ...bytes(1, node),
    ...str(2, `bench_${opType}`),
    ...inputs.flatMap((i) => bytes(11, valueInfo(i.name, i.shape))),
    ...bytes(12, valueInfo(output.name, output.shape)),
  ];
  const opsets = [bytes(8, [...str(1, ''), ...int(2, 13)]), ...(domain ? [bytes(8, [...str(1, domain), ...int(2, 1)])] : [])];
  return Uint8Array.from([...int(1, 8), ...str(2, 'csrm-bench'), ...bytes(7, graph), ...opsets.flat()]);
}
